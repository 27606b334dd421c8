import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Storage } from '../storage/storage.js';
import { UiaEngine } from '../uia/engine.js';
import type { Clock } from '../util/clock.js';
import type { Random } from '../util/random.js';
import { AccountService } from './account.js';
import { AdminAccountService } from './admin-accounts.js';
import { AdminDeviceService } from './admin-devices.js';
import { AdminUserService } from './admin-users.js';
import { type CaptchaVerifier, createSiteverifyClient } from './captcha.js';
import { ConsentService } from './consent.js';
import { DeviceActivity } from './device-activity.js';
import { DeviceService } from './devices.js';
import { EmailValidationService } from './email-validation.js';
import { HealthService } from './health.js';
import { LoginService } from './login.js';
import { createSmtpMailer, type Mailer } from './mailer.js';
import { PasswordAuth } from './password-auth.js';
import { PasswordResetService } from './password-reset.js';
import { createBoundedHasher, type Hasher } from './passwords.js';
import { RateLimiter } from './rate-limiter.js';
import { ReauthService } from './reauth.js';
import { RegistrationService } from './registration.js';
import { RegistrationTokenService } from './registration-tokens.js';
import { SessionService } from './sessions.js';
import { SharedSecretRegistration } from './shared-secret-registration.js';
import { noTelemetry, type Telemetry } from './telemetry.js';
import { TokenService } from './tokens.js';
import { UserService } from './users.js';

export interface ServiceDeps {
  storage: Storage;
  config: Config;
  clock: Clock;
  random: Random;
  hasher: Hasher;
  log: Logger;
  /** For outgoing HTTP (captcha verification); tests may pass their own. */
  fetch?: typeof fetch;
  /** Where services report what metrics count (observability/metrics.ts); none by default. */
  telemetry?: Telemetry;
  /** Device activity batching (service/device-activity.ts); tests shorten the flush interval. */
  deviceActivity?: { flushIntervalMs?: number; granularityMs?: number };
  /** Sends validation mail; by default SMTP per the `email:` block (none without it). */
  mailer?: Mailer;
}

/** Every domain service, built from injected dependencies. The HTTP API and the CLI use these. */
export interface Services {
  config: Config;
  clock: Clock;
  tokens: TokenService;
  sessions: SessionService;
  login: LoginService;
  users: UserService;
  passwordAuth: PasswordAuth;
  uia: UiaEngine;
  registration: RegistrationService;
  /** The terms of service's pages (user_consent). */
  consent: ConsentService;
  /** Registration tokens: Synapse's admin API, `tessera tokens`, the validity check. */
  registrationTokens: RegistrationTokenService;
  sharedSecret: SharedSecretRegistration;
  devices: DeviceService;
  /** Last seen address, time and User-Agent of devices, batched off the request path. */
  deviceActivity: DeviceActivity;
  account: AccountService;
  /** Email validation: requestToken, the emailed link (service/email-validation.ts). */
  emailValidation: EmailValidationService;
  /** The forgotten password: POST /account/password without a token (service/password-reset.ts). */
  passwordReset: PasswordResetService;
  /** The mailer in use, null without email; closed when the app closes. */
  mailer: Mailer | null;
  rateLimiter: RateLimiter;
  health: HealthService;
  adminUsers: AdminUserService;
  adminAccounts: AdminAccountService;
  adminDevices: AdminDeviceService;
}

export function createServices(deps: ServiceDeps): Services {
  const { storage, config, clock, random } = deps;
  const telemetry = deps.telemetry ?? noTelemetry;
  const hasher = createBoundedHasher(deps.hasher, config.passwordHashing.maxQueue, telemetry);
  const tokens = new TokenService({ storage, clock, random });
  const sessions = new SessionService({ storage, config, clock, random, tokens, log: deps.log });
  const users = new UserService({ storage, config, clock, hasher, sessions, telemetry });
  const passwordAuth = new PasswordAuth({ storage, config, hasher });
  const rateLimiter = new RateLimiter({ storage, clock, config, telemetry });
  const uia = new UiaEngine({ storage, clock, random, sessionLifetimeMs: config.uiaSessionLifetimeMs, telemetry });
  const captcha: CaptchaVerifier | null =
    config.recaptchaPrivateKey === null
      ? null
      : createSiteverifyClient({
          url: config.recaptchaSiteverifyApi,
          secret: config.recaptchaPrivateKey,
          ...(deps.fetch && { fetch: deps.fetch }),
        });
  const mailer = deps.mailer ?? (config.email === null ? null : createSmtpMailer(config.email));
  const emailValidation = new EmailValidationService({
    config,
    storage,
    clock,
    random,
    rateLimiter,
    mailer,
    log: deps.log,
  });
  const emailConfigured = config.email !== null && mailer !== null;
  const registration = new RegistrationService({
    config,
    storage,
    uia,
    users,
    sessions,
    captcha,
    rateLimiter,
    clock,
    emailValidations: emailConfigured ? emailValidation.validations('register') : null,
  });
  const registrationTokens = new RegistrationTokenService({ storage, config, clock, random, rateLimiter });
  const sharedSecret = new SharedSecretRegistration({ config, storage, clock, random, hasher, users });
  const reauth = new ReauthService({ storage, uia, passwordAuth, rateLimiter });
  const devices = new DeviceService({ storage, tokens, reauth });
  const deviceActivity = new DeviceActivity({ storage, clock, log: deps.log, ...deps.deviceActivity });
  const account = new AccountService({ storage, config, users, tokens, reauth });
  const passwordReset = new PasswordResetService({
    storage,
    config,
    uia,
    users,
    tokens,
    rateLimiter,
    emailValidations: emailConfigured ? emailValidation.validations('password_reset') : null,
  });
  const login = new LoginService({ storage, config, passwordAuth, sessions, rateLimiter, telemetry });
  const adminUsers = new AdminUserService({ storage, config, hasher, users, tokens });
  const adminAccounts = new AdminAccountService({ storage, config, clock, random, hasher, tokens });
  const adminDevices = new AdminDeviceService({ storage, config, devices });
  return {
    config,
    clock,
    tokens,
    sessions,
    login,
    users,
    passwordAuth,
    uia,
    registration,
    consent: new ConsentService(config.userConsent),
    registrationTokens,
    sharedSecret,
    devices,
    deviceActivity,
    account,
    emailValidation,
    passwordReset,
    mailer,
    rateLimiter,
    health: new HealthService({ ping: () => storage.ping(), timeoutMs: 5_000 }),
    adminUsers,
    adminAccounts,
    adminDevices,
  };
}
