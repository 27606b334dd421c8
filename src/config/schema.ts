import { Type } from 'typebox';

/**
 * The YAML config file, in Synapse's `homeserver.yaml` key names wherever Synapse has the
 * setting, so an operator can reuse their settings. Tessera's own additions are marked
 * "Tessera" in their description. Unknown keys are warned about, not rejected: a Synapse
 * config carries many keys that Tessera does not need.
 */

/** Synapse durations: an integer of milliseconds, or a string such as "30s", "5m", "2h", "7d". */
const Duration = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+(ms|s|m|h|d|w|y)?$' })]);

const RateLimit = Type.Object({
  per_second: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  burst_count: Type.Optional(Type.Number({ minimum: 1 })),
});

const Listener = Type.Object({
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  bind_addresses: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
  /** Synapse's other listener types (metrics, manhole, replication) are accepted and not served. */
  type: Type.Optional(Type.String({ minLength: 1 })),
  tls: Type.Optional(Type.Literal(false)),
  x_forwarded: Type.Optional(Type.Boolean()),
  resources: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }))),
});

const DatabaseArgs = Type.Object({
  database: Type.Optional(Type.String({ minLength: 1 })),
  user: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
  host: Type.Optional(Type.String()),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  cp_min: Type.Optional(Type.Integer({ minimum: 0 })),
  cp_max: Type.Optional(Type.Integer({ minimum: 1 })),
  url: Type.Optional(Type.String({ minLength: 1 })),
  /** libpq's (and so Synapse's) connect_timeout, in seconds. */
  connect_timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
  /** Tessera: the PostgreSQL schema to use (created if missing). */
  schema: Type.Optional(Type.String({ pattern: '^[a-z_][a-z0-9_]*$' })),
});

const PasswordPolicy = Type.Object({
  enabled: Type.Optional(Type.Boolean()),
  minimum_length: Type.Optional(Type.Integer({ minimum: 0 })),
  require_digit: Type.Optional(Type.Boolean()),
  require_symbol: Type.Optional(Type.Boolean()),
  require_lowercase: Type.Optional(Type.Boolean()),
  require_uppercase: Type.Optional(Type.Boolean()),
});

/** Synapse's `email:` block: the SMTP server Tessera sends validation mail through. */
const Email = Type.Object({
  smtp_host: Type.Optional(Type.String({ minLength: 1 })),
  smtp_port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  smtp_user: Type.Optional(Type.String()),
  smtp_pass: Type.Optional(Type.String()),
  /** TLS from the start (implicit TLS, usually port 465) instead of STARTTLS. */
  force_tls: Type.Optional(Type.Boolean()),
  /** Refuse to send unless the server offers STARTTLS. */
  require_transport_security: Type.Optional(Type.Boolean()),
  /** false: never use TLS, even when the server offers STARTTLS. */
  enable_tls: Type.Optional(Type.Boolean()),
  notif_from: Type.Optional(Type.String({ minLength: 1 })),
  app_name: Type.Optional(Type.String({ minLength: 1 })),
  /** How long the link of a validation mail works (duration; Synapse's default 1h). */
  validation_token_lifetime: Type.Optional(Duration),
});

export const ConfigFileSchema = Type.Object({
  server_name: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9.\\-\\[\\]:]+$' }),
  public_baseurl: Type.Optional(Type.String({ pattern: '^https?://' })),
  listeners: Type.Optional(Type.Array(Listener, { minItems: 1 })),
  /**
   * Tessera: the reverse proxies (IPs or CIDR ranges) whose X-Forwarded-For an `x_forwarded`
   * listener believes. Synapse has no such list: it believes the header from any peer.
   */
  trusted_proxies: Type.Optional(Type.Array(Type.String())),
  database: Type.Optional(
    Type.Object({
      name: Type.Union([Type.Literal('sqlite3'), Type.Literal('psycopg2'), Type.Literal('postgres')]),
      args: Type.Optional(DatabaseArgs),
    }),
  ),
  enable_registration: Type.Optional(Type.Boolean()),
  enable_registration_without_verification: Type.Optional(Type.Boolean()),
  enable_registration_captcha: Type.Optional(Type.Boolean()),
  /** Every registration flow needs `m.login.registration_token` (admin API / `tessera tokens`). */
  registration_requires_token: Type.Optional(Type.Boolean()),
  /**
   * Tessera: new accounts of open registration wait for an admin's approval (MSC3866); the same
   * as Synapse's `experimental_features.msc3866` with both keys true.
   */
  registration_requires_approval: Type.Optional(Type.Boolean()),
  /**
   * Synapse's experimental features: only `msc3866` (approval of new accounts) is read; the
   * others are Synapse's own and ignored with a warning (synapse-keys.ts).
   */
  experimental_features: Type.Optional(
    Type.Object({
      msc3866: Type.Optional(
        Type.Object({
          enabled: Type.Optional(Type.Boolean()),
          require_approval_for_new_accounts: Type.Optional(Type.Boolean()),
        }),
      ),
    }),
  ),
  /**
   * Synapse's terms of service: `template_dir/<lang>/<version>.html` is the policy; with
   * `require_at_registration` every registration flow carries `m.login.terms` (config/user-consent.ts).
   */
  user_consent: Type.Optional(
    Type.Object({
      version: Type.String({ minLength: 1 }),
      template_dir: Type.String({ minLength: 1 }),
      policy_name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
      require_at_registration: Type.Optional(Type.Boolean()),
    }),
  ),
  recaptcha_public_key: Type.Optional(Type.String()),
  recaptcha_private_key: Type.Optional(Type.String()),
  recaptcha_siteverify_api: Type.Optional(Type.String({ pattern: '^https?://' })),
  /** Tessera: the captcha service and its keys, instead of the recaptcha_* keys (README). */
  captcha: Type.Optional(
    Type.Object({
      provider: Type.Optional(
        Type.Union([Type.Literal('recaptcha'), Type.Literal('hcaptcha'), Type.Literal('turnstile')]),
      ),
      site_key: Type.Optional(Type.String({ minLength: 1 })),
      secret_key: Type.Optional(Type.String({ minLength: 1 })),
      siteverify_url: Type.Optional(Type.String({ pattern: '^https?://' })),
    }),
  ),
  /** Every registration flow needs a validated email address (`[email]`; msisdn is refused). */
  registrations_require_3pid: Type.Optional(
    Type.Array(Type.Union([Type.Literal('email'), Type.Literal('msisdn')]), { uniqueItems: true }),
  ),
  /** Which addresses may be bound: one matching entry is enough (Python `re.match`: anchored at the start). */
  allowed_local_3pids: Type.Optional(
    Type.Array(Type.Object({ medium: Type.String({ minLength: 1 }), pattern: Type.String() })),
  ),
  email: Type.Optional(Email),
  registration_shared_secret: Type.Optional(Type.String({ minLength: 1 })),
  /** A file holding the shared secret instead (Synapse ≥ 1.67); not together with the key above. */
  registration_shared_secret_path: Type.Optional(Type.String({ minLength: 1 })),
  allow_guest_access: Type.Optional(Type.Boolean()),
  /** Serve Prometheus metrics on the `type: metrics` listeners. */
  enable_metrics: Type.Optional(Type.Boolean()),
  rc_registration: Type.Optional(RateLimit),
  /** GET /register/m.login.registration_token/validity, per client address. */
  rc_registration_token_validity: Type.Optional(RateLimit),
  /** Validation mails: per client address and per email address (Synapse applies it to both). */
  rc_3pid_validation: Type.Optional(RateLimit),
  rc_login: Type.Optional(
    Type.Object({
      address: Type.Optional(RateLimit),
      account: Type.Optional(RateLimit),
      failed_attempts: Type.Optional(RateLimit),
    }),
  ),
  /**
   * Tessera: unauthenticated requests to the registration API (POST /register, v1 and v3, and
   * GET /register/available), per client address; Synapse has no such key.
   */
  rc_registration_requests: Type.Optional(RateLimit),
  password_config: Type.Optional(
    Type.Object({
      enabled: Type.Optional(Type.Boolean()),
      policy: Type.Optional(PasswordPolicy),
    }),
  ),
  refreshable_access_token_lifetime: Type.Optional(Duration),
  refresh_token_lifetime: Type.Optional(Duration),
  /** Tessera: argon2id parameters (OWASP minimum: 19456 KiB, 2 iterations, 1 lane). */
  password_hashing: Type.Optional(
    Type.Object({
      memory_kib: Type.Optional(Type.Integer({ minimum: 8, maximum: 4194304 })),
      iterations: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
      parallelism: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 })),
      /** Most hashes and verifications running or waiting at once; more → 429 M_LIMIT_EXCEEDED. */
      max_queue: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
    }),
  ),
  /** Tessera: how long an unfinished user-interactive auth session lives. */
  uia_session_lifetime: Type.Optional(Duration),
  /** Tessera: the largest request body accepted, in bytes; larger → 413 M_TOO_LARGE. */
  max_request_body_size: Type.Optional(Type.Integer({ minimum: 1024 })),
  /** Tessera: log level (pino's names). */
  log_level: Type.Optional(
    Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
  ),
  /** Tessera: "json" (default) or "pretty" (default when stdout is a terminal). */
  log_format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('pretty')])),
});
