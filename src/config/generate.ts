import { randomBytes } from 'node:crypto';

/**
 * A commented config file in Synapse's key names. `tessera generate-config` writes it, and
 * `tessera start` writes the development flavour when it finds no config at all.
 */
const PRODUCTION_LIMITS = `# Rate limits (Synapse's defaults), each a bucket of burst_count that drains at per_second.
# They live in the database and survive restarts; \`tessera ratelimit clear\` empties them.
rc_registration:
  per_second: 0.17
  burst_count: 3
rc_login:
  # every login request per client address; successful logins per account; wrong passwords per user
  address: { per_second: 0.003, burst_count: 5 }
  account: { per_second: 0.003, burst_count: 5 }
  failed_attempts: { per_second: 0.17, burst_count: 3 }
`;

/** Real limits, but no five-minute lockout after a few logins from 127.0.0.1 while developing. */
const DEVELOPMENT_LIMITS = `# Rate limits, loosened for development (Synapse's defaults let 5 logins from one address in
# and then one every 5 minutes). Wrong passwords are still limited. They live in the database and
# survive restarts; \`tessera ratelimit clear -c tessera.yaml\` empties them.
rc_registration:
  per_second: 1
  burst_count: 10
rc_login:
  address: { per_second: 1, burst_count: 20 }
  account: { per_second: 1, burst_count: 20 }
  failed_attempts: { per_second: 0.17, burst_count: 3 }
`;

export function generateConfigYaml(opts: { serverName: string; development: boolean }): string {
  const secret = randomBytes(24).toString('base64url');
  return `# Tessera configuration. Keys follow Synapse's homeserver.yaml wherever Synapse has the
# setting, so existing settings can be copied across. Reference: README.md, "Configuration".

# The domain part of user ids: @alice:${opts.serverName}
server_name: "${opts.serverName}"

# Where clients and browsers reach this server: emailed links and the terms' policy URLs are
# built from it. Behind a reverse proxy, its public https:// address.
public_baseurl: "${opts.development ? 'http://127.0.0.1:8008/' : `https://${opts.serverName}/`}"

listeners:
  - port: 8008
    type: http
    bind_addresses: ["127.0.0.1"]
    # Take the client address from X-Forwarded-For, as set by a reverse proxy listed in
    # trusted_proxies below (the header is ignored when anyone else sends it).
    x_forwarded: false
    # Synapse's form; register_new_matrix_user -c looks for the "client" resource.
    resources:
      - names: [client]
        compress: false

# Tessera: the reverse proxies (IPs or CIDR ranges) whose X-Forwarded-For is believed on a
# listener with x_forwarded: true. The client is the rightmost address that is not one of them.
trusted_proxies: ["127.0.0.1/8", "::1/128"]

# SQLite (embedded, zero set-up) or PostgreSQL (name: psycopg2, for several processes).
database:
  name: sqlite3
  args:
    database: data/tessera.db
# database:
#   name: psycopg2
#   args:
#     user: tessera
#     password: secret
#     database: tessera
#     host: 127.0.0.1
#     port: 5432
#     cp_min: 1
#     cp_max: 10

# Let anyone create an account.
enable_registration: ${opts.development ? 'true' : 'false'}

# Require a captcha (reCAPTCHA, hCaptcha or Turnstile: any "siteverify" endpoint).
enable_registration_captcha: false
# recaptcha_public_key: "..."
# recaptcha_private_key: "..."
# recaptcha_siteverify_api: "https://www.recaptcha.net/recaptcha/api/siteverify"

# Shared secret for creating accounts while registration is closed: \`tessera register-user\`
# and Synapse's register_new_matrix_user (POST /_synapse/admin/v1/register). Keep it secret.
registration_shared_secret: "${secret}"

# Guest accounts (POST /register?kind=guest).
allow_guest_access: false

# Password rules for new passwords (registration and password change).
password_config:
  enabled: true
  policy:
    enabled: false
    minimum_length: 8
    require_digit: false
    require_symbol: false
    require_lowercase: false
    require_uppercase: false

${opts.development ? DEVELOPMENT_LIMITS : PRODUCTION_LIMITS}
# Prometheus metrics on a listener of their own (keep it private); see README "Monitoring".
# enable_metrics: true
# and add to listeners:
#   - port: 9000
#     type: metrics
#     bind_addresses: ["127.0.0.1"]

# --- Tessera's own settings ---
# Unauthenticated requests to the registration API (POST /register, GET /register/available),
# per client address.
rc_registration_requests:
  per_second: 1
  burst_count: 20
# argon2id parameters; the defaults are OWASP's minimum. max_queue: the most hashes running or
# waiting at once; beyond it requests are answered 429 M_LIMIT_EXCEEDED.
password_hashing:
  memory_kib: 19456
  iterations: 2
  parallelism: 1
  max_queue: 32
# How long an unfinished user-interactive auth session lives.
uia_session_lifetime: 30m
# Largest request body, in bytes (larger: 413 M_TOO_LARGE).
max_request_body_size: 1048576
# fatal | error | warn | info | debug | trace | silent
log_level: info
`;
}
