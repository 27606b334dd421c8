import type { CaptchaProviderName } from '../../src/config/captcha-providers.js';
import { type FakeSiteverify, startFakeSiteverify } from './fake-siteverify.js';
import { type Backend, startServer, type TestServer } from './server.js';

/**
 * Registration with a reCAPTCHA stage against the fake siteverify endpoint: the response
 * `good` passes, anything else is refused.
 */

export const CAPTCHA_PUBLIC_KEY = 'public';
export const CAPTCHA_PRIVATE_KEY = 'private';

/**
 * The config keys (YAML form) that turn the captcha on and point it at `verifier`: Synapse's
 * `recaptcha_*` keys, or with `provider` Tessera's `captcha:` block for that provider.
 */
export function captchaConfig(
  verifier: FakeSiteverify,
  publicKey = CAPTCHA_PUBLIC_KEY,
  provider?: CaptchaProviderName,
): Record<string, unknown> {
  if (provider !== undefined) {
    return {
      enable_registration_captcha: true,
      captcha: { provider, site_key: publicKey, secret_key: CAPTCHA_PRIVATE_KEY, siteverify_url: verifier.url },
    };
  }
  return {
    enable_registration_captcha: true,
    recaptcha_public_key: publicKey,
    recaptcha_private_key: CAPTCHA_PRIVATE_KEY,
    recaptcha_siteverify_api: verifier.url,
  };
}

export function startCaptchaVerifier(): Promise<FakeSiteverify> {
  return startFakeSiteverify({ secret: CAPTCHA_PRIVATE_KEY });
}

export interface CaptchaServer {
  server: TestServer;
  verifier: FakeSiteverify;
  /** Stop the server (deleting its database) and the verifier. */
  close(): Promise<void>;
}

/** A test server with registration captcha on, and its fake verifier. */
export async function startCaptchaServer(
  backend: Backend,
  opts: { publicKey?: string; provider?: CaptchaProviderName; config?: Record<string, unknown> } = {},
): Promise<CaptchaServer> {
  const verifier = await startCaptchaVerifier();
  try {
    const server = await startServer({
      backend,
      config: { ...captchaConfig(verifier, opts.publicKey, opts.provider), ...(opts.config ?? {}) },
    });
    return {
      server,
      verifier,
      async close() {
        await server.close();
        await verifier.close();
      },
    };
  } catch (err) {
    await verifier.close();
    throw err;
  }
}
