import { ConfigError } from './errors.js';

/**
 * The captcha services Tessera can use for the `m.login.recaptcha` stage. All three speak the
 * same "siteverify" protocol (a form POST of `secret`, `response`, `remoteip`, answered with
 * JSON `{"success": bool}`), and each has a widget script that renders an element of its class
 * with `data-sitekey` and calls `data-callback` with the response. The stage keeps its spec name
 * (the spec knows only "Google ReCaptcha"): clients that draw the widget themselves get the site
 * key in `params`; the fallback page draws the configured provider's widget.
 */
export type CaptchaProviderName = 'recaptcha' | 'hcaptcha' | 'turnstile';

export interface CaptchaProvider {
  name: CaptchaProviderName;
  /** The widget script the fallback page loads. */
  scriptUrl: string;
  /** The class of the element the script turns into a widget. */
  widgetClass: string;
  /** The global object the script defines (its `reset()` lets a refused answer be retried). */
  scriptGlobal: string;
  /** Where answers are verified, unless the config names another endpoint. */
  siteverifyUrl: string;
}

export const CAPTCHA_PROVIDERS: Readonly<Record<CaptchaProviderName, CaptchaProvider>> = {
  // Google's docs: developers.google.com/recaptcha/docs/display, …/verify (recaptcha.net works
  // where google.com is blocked, and is Synapse's default).
  recaptcha: {
    name: 'recaptcha',
    scriptUrl: 'https://www.recaptcha.net/recaptcha/api.js',
    widgetClass: 'g-recaptcha',
    scriptGlobal: 'grecaptcha',
    siteverifyUrl: 'https://www.recaptcha.net/recaptcha/api/siteverify',
  },
  // hCaptcha's docs: docs.hcaptcha.com ("Display", "Verify the User Response Server Side").
  hcaptcha: {
    name: 'hcaptcha',
    scriptUrl: 'https://js.hcaptcha.com/1/api.js',
    widgetClass: 'h-captcha',
    scriptGlobal: 'hcaptcha',
    siteverifyUrl: 'https://api.hcaptcha.com/siteverify',
  },
  // Cloudflare's docs: developers.cloudflare.com/turnstile (client-side rendering, server-side validation).
  turnstile: {
    name: 'turnstile',
    scriptUrl: 'https://challenges.cloudflare.com/turnstile/v0/api.js',
    widgetClass: 'cf-turnstile',
    scriptGlobal: 'turnstile',
    siteverifyUrl: 'https://challenges.cloudflare.com/turnstile/v0/siteverify',
  },
};

/** The captcha keys of the config file (Synapse's `recaptcha_*`, or Tessera's `captcha:` block). */
export interface CaptchaKeys {
  enable_registration_captcha?: boolean;
  recaptcha_public_key?: string;
  recaptcha_private_key?: string;
  recaptcha_siteverify_api?: string;
  captcha?: { provider?: CaptchaProviderName; site_key?: string; secret_key?: string; siteverify_url?: string };
}

export interface CaptchaSettings {
  enabled: boolean;
  provider: CaptchaProviderName;
  publicKey: string | null;
  privateKey: string | null;
  siteverifyUrl: string;
}

/** The captcha to use, or a ConfigError naming the key that is wrong. */
export function captchaSettings(file: CaptchaKeys): CaptchaSettings {
  const enabled = file.enable_registration_captcha ?? false;
  const block = file.captcha;
  if (block !== undefined) {
    const synapseKey = (['recaptcha_public_key', 'recaptcha_private_key', 'recaptcha_siteverify_api'] as const).find(
      (k) => file[k] !== undefined,
    );
    if (synapseKey !== undefined) {
      throw new ConfigError(
        `invalid config value at captcha: conflicts with ${synapseKey}; set the captcha in one place`,
      );
    }
    const provider = CAPTCHA_PROVIDERS[block.provider ?? 'recaptcha'];
    if (enabled && !block.site_key) {
      throw new ConfigError(
        'invalid config value at captcha.site_key: required when enable_registration_captcha is true',
      );
    }
    if (enabled && !block.secret_key) {
      throw new ConfigError(
        'invalid config value at captcha.secret_key: required when enable_registration_captcha is true',
      );
    }
    return {
      enabled,
      provider: provider.name,
      publicKey: block.site_key ?? null,
      privateKey: block.secret_key ?? null,
      siteverifyUrl: block.siteverify_url ?? provider.siteverifyUrl,
    };
  }
  if (enabled && !file.recaptcha_private_key) {
    throw new ConfigError(
      'invalid config value at recaptcha_private_key: required when enable_registration_captcha is true',
    );
  }
  // Without the site key no client (nor the fallback page) can draw the widget: nobody could register.
  if (enabled && !file.recaptcha_public_key) {
    throw new ConfigError(
      'invalid config value at recaptcha_public_key: required when enable_registration_captcha is true',
    );
  }
  return {
    enabled,
    provider: 'recaptcha',
    publicKey: file.recaptcha_public_key ?? null,
    privateKey: file.recaptcha_private_key ?? null,
    siteverifyUrl: file.recaptcha_siteverify_api ?? CAPTCHA_PROVIDERS.recaptcha.siteverifyUrl,
  };
}
