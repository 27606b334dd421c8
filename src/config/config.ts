import type { CaptchaProviderName } from './captcha-providers.js';

/** The normalised configuration every other module receives (camelCase, durations in ms). */
export interface PasswordPolicy {
  minimumLength: number;
  requireDigit: boolean;
  requireSymbol: boolean;
  requireLowercase: boolean;
  requireUppercase: boolean;
}

export interface RateLimitConfig {
  perSecond: number;
  burstCount: number;
}

export type DatabaseConfig =
  | { kind: 'sqlite'; path: string }
  | {
      kind: 'postgres';
      /** A libpq-style URL, or null to use the discrete fields below. */
      url: string | null;
      host: string | null;
      port: number | null;
      user: string | null;
      password: string | null;
      database: string | null;
      poolMin: number;
      poolMax: number;
      /** How long to wait for PostgreSQL to accept and answer a new connection. */
      connectTimeoutMs: number;
      schema: string | null;
    };

/** The SMTP server (Synapse's `email:` block). */
export interface EmailConfig {
  smtpHost: string;
  smtpPort: number;
  smtpUser: string | null;
  smtpPass: string | null;
  forceTls: boolean;
  requireTransportSecurity: boolean;
  enableTls: boolean;
  notifFrom: string;
  appName: string;
  validationTokenLifetimeMs: number;
}

/** An `allowed_local_3pids` entry: `pattern` matches from the start of the address (Python's `re.match`). */
export interface Allowed3pid {
  medium: string;
  pattern: RegExp;
}

/** Synapse's `user_consent`: the terms of service (config/user-consent.ts). */
export interface UserConsent {
  /** The version of the terms in force, stored with each account that accepted them. */
  version: string;
  /** The policy's name shown to users (`policy_name`, default "Privacy Policy"). */
  policyName: string;
  /** Every registration flow carries `m.login.terms` (`require_at_registration`). */
  requireAtRegistration: boolean;
  /** The HTML of `template_dir/<lang>/<version>.html` by language, read at start-up; `en` is always there. */
  pages: Readonly<Record<string, string>>;
}

export interface Config {
  serverName: string;
  publicBaseurl: string;
  listeners: { port: number; bindAddresses: string[]; xForwarded: boolean }[];
  /** Synapse's `type: metrics` listeners, served when `enable_metrics` is true; else empty. */
  metricsListeners: { port: number; bindAddresses: string[] }[];
  /** IPs and CIDR ranges whose X-Forwarded-For is believed on `x_forwarded` listeners. */
  trustedProxies: string[];
  database: DatabaseConfig;
  enableRegistration: boolean;
  enableRegistrationCaptcha: boolean;
  /** Every registration flow needs `m.login.registration_token` (Synapse's `registration_requires_token`). */
  registrationRequiresToken: boolean;
  /** Which captcha service `m.login.recaptcha` uses (config/captcha-providers.ts). */
  captchaProvider: CaptchaProviderName;
  /**
   * Accounts of open registration wait for an admin's approval before they can log in
   * (MSC3866: Synapse's `experimental_features.msc3866`, or Tessera's `registration_requires_approval`).
   */
  registrationRequiresApproval: boolean;
  /** The terms of service (Synapse's `user_consent`), or null. */
  userConsent: UserConsent | null;
  /** The captcha's site key and secret, from `recaptcha_*` or the `captcha:` block. */
  recaptchaPublicKey: string | null;
  recaptchaPrivateKey: string | null;
  recaptchaSiteverifyApi: string;
  registrationSharedSecret: string | null;
  /** The SMTP server validation mail goes through; null without `email.smtp_host`. */
  email: EmailConfig | null;
  /** Every registration flow carries `m.login.email.identity` (`registrations_require_3pid: [email]`). */
  registrationRequiresEmail: boolean;
  /** null: any address may be bound; else one entry must match (`allowed_local_3pids`). */
  allowedLocal3pids: Allowed3pid[] | null;
  allowGuestAccess: boolean;
  rcRegistration: RateLimitConfig;
  /** The registration token validity endpoint, per client address. */
  rcRegistrationTokenValidity: RateLimitConfig;
  /** Validation mails, per client address and per email address (`rc_3pid_validation`). */
  rc3pidValidation: RateLimitConfig;
  rcLogin: { address: RateLimitConfig; account: RateLimitConfig; failedAttempts: RateLimitConfig };
  /** Tessera: unauthenticated requests to the registration API, per client address. */
  rcRegistrationRequests: RateLimitConfig;
  passwordLoginEnabled: boolean;
  /** null when `password_config.policy.enabled` is false. */
  passwordPolicy: PasswordPolicy | null;
  /** null: access tokens of refresh-token sessions never expire (Synapse's default is 5 min). */
  refreshableAccessTokenLifetimeMs: number | null;
  refreshTokenLifetimeMs: number | null;
  /** `maxQueue`: most password hashes and verifications running or waiting at once (Tessera). */
  passwordHashing: { memoryKib: number; iterations: number; parallelism: number; maxQueue: number };
  uiaSessionLifetimeMs: number;
  maxRequestBodySize: number;
  logLevel: string;
  logFormat: 'json' | 'pretty';
}
