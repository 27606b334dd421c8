import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Value } from 'typebox/value';
import { parseDocument } from 'yaml';
import { AddressSet, InvalidAddressEntry } from '../util/address-set.js';
import { isServerName } from '../util/matrix-id.js';
import { captchaSettings } from './captcha-providers.js';
import type { Config, RateLimitConfig } from './config.js';
import { describeSchemaError } from './diagnostics.js';
import { emailSettings } from './email-settings.js';
import { ConfigError } from './errors.js';
import { checkKeys } from './key-check.js';
import { ConfigFileSchema } from './schema.js';
import { readUserConsent } from './user-consent.js';

export { ConfigError };

export interface LoadedConfig {
  config: Config;
  /** Human-readable warnings (unknown keys), for the log. */
  warnings: string[];
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/** Synapse's duration syntax: an integer of ms, or "<n><unit>" ("30s", "5m", "2h"). */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = /^([0-9]+)(ms|s|m|h|d|w|y)?$/.exec(value);
  if (!match) throw new ConfigError(`invalid duration: ${value}`);
  const ms = Number(match[1]) * DURATION_UNITS[match[2] ?? 'ms']!;
  if (!Number.isSafeInteger(ms)) throw new ConfigError(`invalid duration: ${value} is too long`);
  return ms;
}

/** Like parseDuration, but a problem names the config key. */
function durationAt(key: string, value: number | string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new ConfigError(`invalid config value at ${key}: ${(err as Error).message}`);
  }
}

/** argon2id at the OWASP minimum (19 MiB, t=2, p=1): `password_hashing` without those keys. */
export const DEFAULT_PASSWORD_HASHING = { memoryKib: 19456, iterations: 2, parallelism: 1 } as const;

/** A proxy on the same machine: the usual set-up, and what `x_forwarded` needs out of the box. */
const DEFAULT_TRUSTED_PROXIES = ['127.0.0.1/8', '::1/128'];

/**
 * `registration_shared_secret`, or the contents of `registration_shared_secret_path` (trimmed,
 * relative to the config file); both at once is an error, as in Synapse.
 */
function sharedSecret(
  file: { registration_shared_secret?: string; registration_shared_secret_path?: string },
  baseDir: string,
): string | null {
  const path = file.registration_shared_secret_path;
  if (path === undefined) return file.registration_shared_secret ?? null;
  if (file.registration_shared_secret !== undefined) {
    throw new ConfigError(
      'invalid config value at registration_shared_secret_path: conflicts with registration_shared_secret; set only one',
    );
  }
  let secret: string;
  try {
    secret = readFileSync(resolve(baseDir, path), 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`invalid config value at registration_shared_secret_path: ${(err as Error).message}`);
  }
  if (secret === '') throw new ConfigError(`invalid config value at registration_shared_secret_path: ${path} is empty`);
  return secret;
}

/**
 * MSC3866 as Synapse reads it: approval is required when `experimental_features.msc3866` has
 * both `enabled` and `require_approval_for_new_accounts` true (with `enabled` alone, new accounts
 * are approved at creation). Tessera's `registration_requires_approval: true` means the same;
 * either one asking is enough (fail closed).
 */
function requiresApproval(file: {
  registration_requires_approval?: boolean;
  experimental_features?: { msc3866?: { enabled?: boolean; require_approval_for_new_accounts?: boolean } };
}): boolean {
  const msc3866 = file.experimental_features?.msc3866;
  const synapse = msc3866?.enabled === true && msc3866.require_approval_for_new_accounts === true;
  return synapse || file.registration_requires_approval === true;
}

export function loadConfigFile(path: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  return parseConfig(text, dirname(resolve(path)));
}

/** Parse and validate YAML text; relative SQLite paths resolve against `baseDir`. */
export function parseConfig(text: string, baseDir: string): LoadedConfig {
  // parseDocument (not parse) so duplicate keys are reported instead of silently overwritten.
  // YAML 1.1, as Synapse reads its config with PyYAML: `yes`/`no`/`on`/`off` are booleans and
  // `<<` merge keys work, so a homeserver.yaml means the same thing to both servers.
  const doc = parseDocument(text, { uniqueKeys: true, version: '1.1' });
  const error = doc.errors[0];
  if (error !== undefined) {
    if (error.code === 'DUPLICATE_KEY') {
      // The error points at the key's first character; the key runs to its colon.
      const found = /^("[^"]*"|'[^']*'|[^:\n]+)/.exec(text.slice(error.pos[0]));
      const key = (found?.[1] ?? '').trim().replace(/^["']|["']$/g, '');
      const line = error.linePos?.[0].line;
      throw new ConfigError(`config has a duplicate key '${key}'${line === undefined ? '' : ` (line ${line})`}`);
    }
    throw new ConfigError(`config is not valid YAML: ${error.message}`);
  }
  const raw: unknown = doc.toJS() ?? {};
  return validateConfig(raw, baseDir);
}

export function validateConfig(raw: unknown, baseDir: string): LoadedConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError('config must be a YAML mapping');
  }
  if (!Value.Check(ConfigFileSchema, raw)) {
    throw new ConfigError(describeSchemaError([...Value.Errors(ConfigFileSchema, raw)]));
  }
  const file = raw;
  if (!isServerName(file.server_name)) {
    throw new ConfigError(
      `invalid config value at server_name: ${JSON.stringify(file.server_name)} is not a server name (a DNS name, an IP address or [IPv6], with an optional :port)`,
    );
  }
  const keys = checkKeys(ConfigFileSchema, file as Record<string, unknown>);
  if (keys.errors.length > 0) throw new ConfigError(keys.errors.join('\n'));
  const warnings = keys.warnings;

  // Synapse's metrics/manhole/replication listeners may stay in a shared config: not served.
  const allListeners = file.listeners ?? [{ port: 8008, bind_addresses: ['127.0.0.1'] }];
  const enableMetrics = file.enable_metrics ?? false;
  allListeners.forEach((l, i) => {
    if (l.type === 'metrics' && !enableMetrics) {
      warnings.push(`listener listeners[${i}] (type metrics) is not served: enable_metrics is not true`);
    } else if (l.type !== undefined && l.type !== 'http' && l.type !== 'metrics') {
      warnings.push(`listener listeners[${i}] (type ${l.type}) is not served by Tessera and was ignored`);
    }
  });
  const metricsListeners = enableMetrics
    ? allListeners
        .filter((l) => l.type === 'metrics')
        .map((l) => ({ port: l.port, bindAddresses: l.bind_addresses ?? ['127.0.0.1'] }))
    : [];
  if (enableMetrics && metricsListeners.length === 0) {
    warnings.push('enable_metrics is true, but no listener has type metrics: metrics are not served');
  }
  const listeners = allListeners
    .filter((l) => l.type === undefined || l.type === 'http')
    .map((l) => ({
      port: l.port,
      bindAddresses: l.bind_addresses ?? ['127.0.0.1'],
      xForwarded: l.x_forwarded ?? false,
    }));
  const trustedProxies = file.trusted_proxies ?? DEFAULT_TRUSTED_PROXIES;
  try {
    new AddressSet(trustedProxies);
  } catch (err) {
    if (!(err instanceof InvalidAddressEntry)) throw err;
    throw new ConfigError(`invalid config value at trusted_proxies[${err.index}]: ${err.message}`);
  }
  const firstListener = listeners[0];
  if (firstListener === undefined) {
    throw new ConfigError('invalid config value at listeners: no listener of type http');
  }

  const dbName = file.database?.name ?? 'sqlite3';
  const args = file.database?.args ?? {};
  let database: Config['database'];
  if (dbName === 'sqlite3') {
    const path = args.database ?? 'data/tessera.db';
    database = { kind: 'sqlite', path: path === ':memory:' ? path : resolve(baseDir, path) };
  } else {
    database = {
      kind: 'postgres',
      url: args.url ?? null,
      host: args.host ?? null,
      port: args.port ?? null,
      user: args.user ?? null,
      password: args.password ?? null,
      database: args.database ?? null,
      poolMin: args.cp_min ?? 0,
      poolMax: args.cp_max ?? 10,
      connectTimeoutMs: (args.connect_timeout ?? 10) * 1000,
      schema: args.schema ?? null,
    };
    if (database.poolMin > database.poolMax) {
      throw new ConfigError('invalid config value at database.args.cp_min: must not exceed cp_max');
    }
  }

  const captcha = captchaSettings(file);

  // Synapse's defaults (synapse/config/ratelimiting.py).
  const rate = (r: { per_second?: number; burst_count?: number } | undefined, d: RateLimitConfig) => ({
    perSecond: r?.per_second ?? d.perSecond,
    burstCount: r?.burst_count ?? d.burstCount,
  });
  const policy = file.password_config?.policy;
  // A wildcard bind address is not a reachable host; IPv6 literals need brackets in URLs.
  const bound = firstListener.bindAddresses[0]!;
  const host =
    bound === '0.0.0.0' ? '127.0.0.1' : bound === '::' ? '[::1]' : bound.includes(':') ? `[${bound}]` : bound;

  const config: Config = {
    serverName: file.server_name,
    publicBaseurl: file.public_baseurl ?? `http://${host}:${firstListener.port}/`,
    listeners,
    metricsListeners,
    trustedProxies: [...trustedProxies],
    database,
    enableRegistration: file.enable_registration ?? false,
    enableRegistrationCaptcha: captcha.enabled,
    registrationRequiresToken: file.registration_requires_token ?? false,
    registrationRequiresApproval: requiresApproval(file),
    userConsent: readUserConsent(file.user_consent, baseDir, warnings),
    captchaProvider: captcha.provider,
    recaptchaPublicKey: captcha.publicKey,
    recaptchaPrivateKey: captcha.privateKey,
    recaptchaSiteverifyApi: captcha.siteverifyUrl,
    registrationSharedSecret: sharedSecret(file, baseDir),
    ...emailSettings(file, durationAt, warnings),
    allowGuestAccess: file.allow_guest_access ?? false,
    rcRegistration: rate(file.rc_registration, { perSecond: 0.17, burstCount: 3 }),
    rcRegistrationTokenValidity: rate(file.rc_registration_token_validity, { perSecond: 0.1, burstCount: 5 }),
    rc3pidValidation: rate(file.rc_3pid_validation, { perSecond: 0.003, burstCount: 5 }),
    rcLogin: {
      address: rate(file.rc_login?.address, { perSecond: 0.003, burstCount: 5 }),
      account: rate(file.rc_login?.account, { perSecond: 0.003, burstCount: 5 }),
      failedAttempts: rate(file.rc_login?.failed_attempts, { perSecond: 0.17, burstCount: 3 }),
    },
    // A registration takes a few requests (challenge, captcha, dummy) and clients check names
    // as they are typed: 20 at once, then one a second, is far above that and bounds what one
    // address can make the server store.
    rcRegistrationRequests: rate(file.rc_registration_requests, { perSecond: 1, burstCount: 20 }),
    passwordLoginEnabled: file.password_config?.enabled ?? true,
    passwordPolicy:
      policy?.enabled === true
        ? {
            minimumLength: policy.minimum_length ?? 0,
            requireDigit: policy.require_digit ?? false,
            requireSymbol: policy.require_symbol ?? false,
            requireLowercase: policy.require_lowercase ?? false,
            requireUppercase: policy.require_uppercase ?? false,
          }
        : null,
    refreshableAccessTokenLifetimeMs:
      file.refreshable_access_token_lifetime === undefined
        ? 300_000
        : durationAt('refreshable_access_token_lifetime', file.refreshable_access_token_lifetime),
    refreshTokenLifetimeMs:
      file.refresh_token_lifetime === undefined
        ? null
        : durationAt('refresh_token_lifetime', file.refresh_token_lifetime),
    passwordHashing: {
      memoryKib: file.password_hashing?.memory_kib ?? DEFAULT_PASSWORD_HASHING.memoryKib,
      iterations: file.password_hashing?.iterations ?? DEFAULT_PASSWORD_HASHING.iterations,
      parallelism: file.password_hashing?.parallelism ?? DEFAULT_PASSWORD_HASHING.parallelism,
      // libuv runs 4 hashes at once by default; 32 in line is well under a second of waiting
      // at the default parameters, and caps the memory and CPU a burst of requests can claim.
      maxQueue: file.password_hashing?.max_queue ?? 32,
    },
    uiaSessionLifetimeMs: durationAt('uia_session_lifetime', file.uia_session_lifetime ?? '30m'),
    maxRequestBodySize: file.max_request_body_size ?? 1024 * 1024,
    logLevel: file.log_level ?? 'info',
    logFormat: file.log_format ?? (process.stdout.isTTY ? 'pretty' : 'json'),
  };
  // Emailed links and the terms' policy URLs are built from public_baseurl: its default (the
  // first listener's address) only works on this machine.
  if (
    file.public_baseurl === undefined &&
    (config.email !== null || config.userConsent?.requireAtRegistration === true)
  ) {
    warnings.push(
      `public_baseurl is not set: emailed links and terms URLs will point at ${config.publicBaseurl}; set it to the address clients and browsers reach`,
    );
  }
  return { config: Object.freeze(config), warnings };
}
