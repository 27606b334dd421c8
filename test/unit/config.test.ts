import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { generateConfigYaml } from '../../src/config/generate.js';
import { ConfigError, loadConfigFile, parseConfig, parseDuration } from '../../src/config/load.js';

const BASE = '/srv/tessera';

/** Parse YAML text; throws like the CLI would. */
function parse(yaml: string) {
  return parseConfig(yaml, BASE);
}

/** The ConfigError message for `yaml`; fails the test when it parses. */
function errorOf(yaml: string): string {
  try {
    parse(yaml);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail(`expected a config error for:\n${yaml}`);
}

/** A homeserver.yaml as a Synapse operator would have it (synapse/docs/sample_config.yaml keys). */
const SYNAPSE_YAML = `
server_name: "example.org"
public_baseurl: "https://matrix.example.org/"
pid_file: /data/homeserver.pid
report_stats: false
listeners:
  - port: 8448
    type: http
    bind_addresses: ['::1', '127.0.0.1']
    x_forwarded: true
    tls: false
    resources:
      - names: [client, federation]
        compress: false
  - port: 9000
    type: metrics
    bind_addresses: ['127.0.0.1']
database:
  name: sqlite3
  args:
    database: data/homeserver.db
enable_registration: true
enable_registration_captcha: true
recaptcha_public_key: "pub-key"
recaptcha_private_key: "priv-key"
recaptcha_siteverify_api: "https://hcaptcha.com/siteverify"
registration_shared_secret: "s3cret"
registration_requires_token: true
rc_registration:
  per_second: 0.5
  burst_count: 4
rc_registration_token_validity:
  per_second: 0.25
  burst_count: 9
rc_login:
  address:
    per_second: 0.1
    burst_count: 6
  account:
    per_second: 0.2
    burst_count: 7
  failed_attempts:
    per_second: 0.3
    burst_count: 8
password_config:
  enabled: true
  policy:
    enabled: true
    minimum_length: 12
    require_digit: true
    require_symbol: true
    require_lowercase: false
    require_uppercase: true
password_hashing:
  memory_kib: 65536
  iterations: 3
  parallelism: 2
`;

describe('config: a Synapse-style homeserver.yaml', () => {
  const { config, warnings } = parse(SYNAPSE_YAML);

  it('reads the server identity', () => {
    assert.equal(config.serverName, 'example.org');
    assert.equal(config.publicBaseurl, 'https://matrix.example.org/');
  });

  it('serves the http listener and ignores the metrics one, saying so', () => {
    assert.deepEqual(config.listeners, [{ port: 8448, bindAddresses: ['::1', '127.0.0.1'], xForwarded: true }]);
    assert.ok(
      warnings.some((w) => w.includes('listeners[1]') && w.includes('metrics')),
      JSON.stringify(warnings),
    );
  });

  it('resolves a relative SQLite path against the config file directory', () => {
    assert.deepEqual(config.database, { kind: 'sqlite', path: join(BASE, 'data/homeserver.db') });
  });

  it('reads registration and captcha settings', () => {
    assert.equal(config.enableRegistration, true);
    assert.equal(config.enableRegistrationCaptcha, true);
    assert.equal(config.recaptchaPublicKey, 'pub-key');
    assert.equal(config.recaptchaPrivateKey, 'priv-key');
    assert.equal(config.recaptchaSiteverifyApi, 'https://hcaptcha.com/siteverify');
    assert.equal(config.registrationSharedSecret, 's3cret');
    // Enforced since registration tokens exist: no longer refused (spec "Token-authenticated registration").
    assert.equal(config.registrationRequiresToken, true);
  });

  it('reads rate limits', () => {
    assert.deepEqual(config.rcRegistration, { perSecond: 0.5, burstCount: 4 });
    assert.deepEqual(config.rcRegistrationTokenValidity, { perSecond: 0.25, burstCount: 9 });
    assert.deepEqual(config.rcLogin, {
      address: { perSecond: 0.1, burstCount: 6 },
      account: { perSecond: 0.2, burstCount: 7 },
      failedAttempts: { perSecond: 0.3, burstCount: 8 },
    });
  });

  it('reads the password policy and hashing parameters', () => {
    assert.equal(config.passwordLoginEnabled, true);
    assert.deepEqual(config.passwordPolicy, {
      minimumLength: 12,
      requireDigit: true,
      requireSymbol: true,
      requireLowercase: false,
      requireUppercase: true,
    });
    assert.deepEqual(config.passwordHashing, { memoryKib: 65536, iterations: 3, parallelism: 2, maxQueue: 32 });
  });

  it('warns about every key it does not use, by name, and nothing else', () => {
    const named = warnings.filter((w) => w.startsWith('config key'));
    assert.deepEqual(named, [
      "config key 'pid_file' is a Synapse setting Tessera does not use, ignored",
      "config key 'report_stats' is a Synapse setting Tessera does not use, ignored",
    ]);
  });

  it('freezes the result', () => {
    assert.ok(Object.isFrozen(config));
  });
});

describe('config: defaults', () => {
  const { config, warnings } = parse('server_name: localhost\n');

  it('uses the documented defaults', () => {
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.listeners, [{ port: 8008, bindAddresses: ['127.0.0.1'], xForwarded: false }]);
    assert.equal(config.publicBaseurl, 'http://127.0.0.1:8008/');
    assert.deepEqual(config.database, { kind: 'sqlite', path: join(BASE, 'data/tessera.db') });
    assert.equal(config.enableRegistration, false);
    assert.equal(config.enableRegistrationCaptcha, false);
    assert.equal(config.registrationRequiresToken, false);
    // Synapse's default (synapse/config/ratelimiting.py).
    assert.deepEqual(config.rcRegistrationTokenValidity, { perSecond: 0.1, burstCount: 5 });
    assert.equal(config.recaptchaSiteverifyApi, 'https://www.recaptcha.net/recaptcha/api/siteverify');
    assert.equal(config.registrationSharedSecret, null);
    assert.deepEqual(config.rcRegistration, { perSecond: 0.17, burstCount: 3 });
    assert.deepEqual(config.rcLogin.failedAttempts, { perSecond: 0.17, burstCount: 3 });
    assert.deepEqual(config.rcLogin.address, { perSecond: 0.003, burstCount: 5 });
    assert.equal(config.passwordPolicy, null);
    assert.deepEqual(config.passwordHashing, { memoryKib: 19456, iterations: 2, parallelism: 1, maxQueue: 32 });
    assert.equal(config.uiaSessionLifetimeMs, 30 * 60_000);
    assert.equal(config.maxRequestBodySize, 1024 * 1024);
    assert.equal(config.logLevel, 'info');
  });

  it('a disabled policy is no policy', () => {
    const { config: c } = parse(
      'server_name: a\npassword_config:\n  policy:\n    enabled: false\n    minimum_length: 9\n',
    );
    assert.equal(c.passwordPolicy, null);
  });

  it('keeps :memory: as is and absolute paths as given', () => {
    const mem = parse('server_name: a\ndatabase: {name: sqlite3, args: {database: ":memory:"}}\n').config;
    assert.deepEqual(mem.database, { kind: 'sqlite', path: ':memory:' });
    const abs = parse('server_name: a\ndatabase: {name: sqlite3, args: {database: /var/db/t.db}}\n').config;
    assert.deepEqual(abs.database, { kind: 'sqlite', path: '/var/db/t.db' });
  });

  it('derives a reachable public_baseurl from wildcard and IPv6 bind addresses', () => {
    const any4 = parse('server_name: a\nlisteners: [{port: 8080, bind_addresses: ["0.0.0.0"]}]\n').config;
    assert.equal(any4.publicBaseurl, 'http://127.0.0.1:8080/');
    const any6 = parse('server_name: a\nlisteners: [{port: 8080, bind_addresses: ["::"]}]\n').config;
    assert.equal(any6.publicBaseurl, 'http://[::1]:8080/');
    const v6 = parse('server_name: a\nlisteners: [{port: 8080, bind_addresses: ["fd00::1"]}]\n').config;
    assert.equal(v6.publicBaseurl, 'http://[fd00::1]:8080/');
  });
});

describe('config: PostgreSQL', () => {
  it('reads psycopg2 args', () => {
    const { config, warnings } = parse(`
server_name: a
database:
  name: psycopg2
  args:
    user: synapse_user
    password: pw
    database: synapse
    host: db.internal
    port: 5433
    cp_min: 2
    cp_max: 20
`);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.database, {
      kind: 'postgres',
      url: null,
      host: 'db.internal',
      port: 5433,
      user: 'synapse_user',
      password: 'pw',
      database: 'synapse',
      poolMin: 2,
      poolMax: 20,
      connectTimeoutMs: 10_000,
      schema: null,
    });
  });

  it('accepts name postgres with a url and a schema', () => {
    const { config } = parse(
      'server_name: a\ndatabase: {name: postgres, args: {url: "postgres://u@h/db", schema: tessera}}\n',
    );
    assert.equal(config.database.kind, 'postgres');
    assert.equal(config.database.kind === 'postgres' && config.database.url, 'postgres://u@h/db');
    assert.equal(config.database.kind === 'postgres' && config.database.schema, 'tessera');
  });

  it('warns about psycopg2 args it does not pass on', () => {
    const { warnings } = parse('server_name: a\ndatabase: {name: psycopg2, args: {keepalives_idle: 10, cp_max: 3}}\n');
    assert.deepEqual(warnings, [
      "config key 'database.args.keepalives_idle' is a Synapse setting Tessera does not use, ignored",
    ]);
  });

  it('rejects cp_min above cp_max, naming the key', () => {
    assert.match(errorOf('server_name: a\ndatabase: {name: psycopg2, args: {cp_min: 5, cp_max: 2}}\n'), /cp_min/);
  });
});

describe('config: durations (Synapse syntax)', () => {
  it('parses integers as milliseconds and unit suffixes', () => {
    assert.equal(parseDuration(1500), 1500);
    assert.equal(parseDuration('1500'), 1500);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('30m'), 1_800_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('7d'), 604_800_000);
    assert.equal(parseDuration('1w'), 604_800_000);
    assert.equal(parseDuration('1y'), 31_536_000_000);
  });

  it('rejects what is not a duration', () => {
    for (const bad of ['', '5 m', '1.5h', '-3s', 'm', '10x', '99999999999999999y']) {
      assert.throws(() => parseDuration(bad), ConfigError, bad);
    }
  });

  it('applies to uia_session_lifetime and the token lifetimes', () => {
    const { config } = parse(
      'server_name: a\nuia_session_lifetime: 10m\nrefreshable_access_token_lifetime: 90000\nrefresh_token_lifetime: 1d\n',
    );
    assert.equal(config.uiaSessionLifetimeMs, 600_000);
    assert.equal(config.refreshableAccessTokenLifetimeMs, 90_000);
    assert.equal(config.refreshTokenLifetimeMs, 86_400_000);
  });

  it('an invalid duration is an error naming the key and the syntax', () => {
    const msg = errorOf('server_name: a\nuia_session_lifetime: 30 minutes\n');
    assert.match(msg, /uia_session_lifetime/);
    assert.match(msg, /duration/);
    assert.match(errorOf('server_name: a\nrefresh_token_lifetime: 99999999999999y\n'), /refresh_token_lifetime/);
  });
});

describe('config: YAML as Synapse reads it', () => {
  it('rejects duplicate keys, naming the key and line', () => {
    const msg = errorOf('server_name: a\nenable_registration: true\nenable_registration: false\n');
    assert.match(msg, /duplicate key 'enable_registration'/);
    assert.match(msg, /line 3/);
    assert.match(errorOf('server_name: a\nrc_login:\n  address: {}\n  address: {}\n'), /duplicate key 'address'/);
  });

  it('reads yes/no/on/off as booleans (YAML 1.1, as PyYAML does)', () => {
    const { config } = parse('server_name: a\nenable_registration: yes\nenable_registration_captcha: off\n');
    assert.equal(config.enableRegistration, true);
    assert.equal(config.enableRegistrationCaptcha, false);
  });

  it('supports anchors and << merge keys', () => {
    const { config } = parse(
      'server_name: a\nrc_login:\n  address: &slow {per_second: 0.5, burst_count: 9}\n  account:\n    <<: *slow\n    burst_count: 2\n',
    );
    assert.deepEqual(config.rcLogin.account, { perSecond: 0.5, burstCount: 2 });
  });

  it('rejects text that is not YAML, or not a mapping', () => {
    assert.match(errorOf('server_name: [a\n'), /not valid YAML/);
    assert.match(errorOf('- a\n- b\n'), /mapping/);
  });

  it('loadConfigFile names a file it cannot read', () => {
    assert.throws(() => loadConfigFile('/nonexistent/tessera.yaml'), /cannot read config file \/nonexistent/);
  });
});

describe('config: invalid values name their key', () => {
  const cases: [string, string, RegExp][] = [
    ['missing server_name', 'enable_registration: true\n', /at server_name: is required/],
    ['empty server_name', 'server_name: ""\n', /at server_name:/],
    ['server_name with a slash', 'server_name: "a/b"\n', /at server_name:/],
    ['public_baseurl not http(s)', 'server_name: a\npublic_baseurl: ftp://x/\n', /at public_baseurl:/],
    ['port not an integer', 'server_name: a\nlisteners: [{port: abc}]\n', /at listeners\[0\]\.port: must be integer/],
    ['port out of range', 'server_name: a\nlisteners: [{port: 70000}]\n', /at listeners\[0\]\.port:/],
    [
      'empty bind_addresses',
      'server_name: a\nlisteners: [{port: 1, bind_addresses: []}]\n',
      /listeners\[0\]\.bind_addresses/,
    ],
    ['tls listener', 'server_name: a\nlisteners: [{port: 1, tls: true}]\n', /at listeners\[0\]\.tls:/],
    [
      'only a metrics listener',
      'server_name: a\nlisteners: [{port: 1, type: metrics}]\n',
      /at listeners: no listener of type http/,
    ],
    [
      'unknown database engine',
      'server_name: a\ndatabase: {name: mysql}\n',
      /at database\.name: must be one of "sqlite3", "psycopg2", "postgres"/,
    ],
    ['database without name', 'server_name: a\ndatabase: {args: {database: x}}\n', /at database\.name: is required/],
    [
      'registration as a string',
      'server_name: a\nenable_registration: "true"\n',
      /at enable_registration: must be boolean/,
    ],
    [
      'captcha without private key',
      'server_name: a\nenable_registration_captcha: true\n',
      /at recaptcha_private_key: required/,
    ],
    ['siteverify not a URL', 'server_name: a\nrecaptcha_siteverify_api: nope\n', /at recaptcha_siteverify_api:/],
    ['empty shared secret', 'server_name: a\nregistration_shared_secret: ""\n', /at registration_shared_secret:/],
    ['rate of zero', 'server_name: a\nrc_registration: {per_second: 0}\n', /at rc_registration\.per_second:/],
    [
      'nested rate limit',
      'server_name: a\nrc_login: {account: {burst_count: x}}\n',
      /at rc_login\.account\.burst_count:/,
    ],
    [
      'policy length',
      'server_name: a\npassword_config: {policy: {minimum_length: -1}}\n',
      /at password_config\.policy\.minimum_length:/,
    ],
    [
      'argon2 memory too small',
      'server_name: a\npassword_hashing: {memory_kib: 1}\n',
      /at password_hashing\.memory_kib:/,
    ],
    ['body limit too small', 'server_name: a\nmax_request_body_size: 10\n', /at max_request_body_size:/],
    ['log level', 'server_name: a\nlog_level: loud\n', /at log_level: must be one of "fatal"/],
    ['server name not a server name', 'server_name: "a..b"\n', /at server_name: "a\.\.b" is not a server name/],
    ['log format', 'server_name: a\nlog_format: xml\n', /at log_format: must be one of "json", "pretty"/],
  ];
  for (const [name, yaml, expected] of cases) {
    it(name, () => assert.match(errorOf(yaml), expected));
  }
});

describe('config: unknown keys', () => {
  it('a typo of a Tessera key is an error that names the key it was meant to be, at every depth', () => {
    const cases: [string, string][] = [
      [
        'server_name: a\nenable_registraton: true\n',
        "unknown config key 'enable_registraton' (did you mean 'enable_registration'?)",
      ],
      [
        'server_name: a\nlisteners: [{port: 1, bind_address: 127.0.0.1}]\n',
        "unknown config key 'listeners[0].bind_address' (did you mean 'bind_addresses'?)",
      ],
      [
        'server_name: a\npassword_hashing: {memry_kib: 5}\n',
        "unknown config key 'password_hashing.memry_kib' (did you mean 'memory_kib'?)",
      ],
      // Inside a block Tessera reads, any unknown key is an error, even without a near miss.
      [
        'server_name: a\npassword_config: {policy: {min_length: 3}}\n',
        "unknown config key 'password_config.policy.min_length'",
      ],
    ];
    for (const [yaml, expected] of cases) assert.ok(errorOf(yaml).includes(expected), `${yaml} → ${errorOf(yaml)}`);
  });

  it('lists Synapse keys it ignores apart from unknown keys, one warning each', () => {
    const { warnings } = parse(`
server_name: a
media_store_path: /data/media
url_preview_enabled: true
listeners:
  - port: 1
    tag: main
something_else_entirely: 1
`);
    assert.deepEqual(warnings, [
      "config key 'media_store_path' is a Synapse setting Tessera does not use, ignored",
      "config key 'url_preview_enabled' is a Synapse setting Tessera does not use, ignored",
      "config key 'listeners[0].tag' is a Synapse setting Tessera does not use, ignored",
      "config key 'something_else_entirely' is unknown to Tessera and was ignored",
    ]);
  });

  it('keeps listener resources as opaque Synapse settings', () => {
    const { warnings } = parse(
      'server_name: a\nlisteners: [{port: 1, resources: [{names: [client], compress: true}]}]\n',
    );
    assert.deepEqual(warnings, []);
  });
});

describe('config: settings Tessera cannot enforce stop start-up (fail closed)', () => {
  const refused: [string, string][] = [
    ['registrations_require_3pid: [email, msisdn]', 'registrations_require_3pid'],
    ['request_token_inhibit_3pid_errors: true', 'request_token_inhibit_3pid_errors'],
    ['inhibit_user_in_use_error: true', 'inhibit_user_in_use_error'],
    ['app_service_config_files: [/etc/bridge.yaml]', 'app_service_config_files'],
    ['session_lifetime: 24h', 'session_lifetime'],
    ['nonrefreshable_access_token_lifetime: 1h', 'nonrefreshable_access_token_lifetime'],
    ['delete_stale_devices_after: 1y', 'delete_stale_devices_after'],
    ['password_providers: [{module: ldap_auth_provider.LdapAuthProvider}]', 'password_providers'],
    ['modules: [{module: my_module.Module}]', 'modules'],
    ['password_config: {localdb_enabled: false}', 'password_config.localdb_enabled'],
    ['limit_usage_by_mau: true', 'limit_usage_by_mau'],
    ['account_validity: {period: 6w}', 'account_validity'],
    ['hs_disabled: true', 'hs_disabled'],
    ['database: {name: psycopg2, args: {sslmode: verify-full}}', 'database.args.sslmode'],
    ['database: {name: psycopg2, args: {sslrootcert: /ca.pem}}', 'database.args.sslrootcert'],
  ];
  for (const [line, key] of refused) {
    it(`refuses ${line}`, () =>
      assert.match(
        errorOf(`server_name: a\n${line}\n`),
        new RegExp(`^config key '${key.replaceAll('.', '\\.')}' is not supported: `),
      ));
  }
  const harmless = [
    'registration_requires_token: false',
    'registration_requires_token: true',
    'registrations_require_3pid: []',
    'allowed_local_3pids: [{medium: email, pattern: ".*@example.org"}]',
    'request_token_inhibit_3pid_errors: false',
    'experimental_features: {msc3866: {enabled: false}}',
    'password_config: {localdb_enabled: true}',
    'account_validity: {enabled: false}',
    'database: {name: psycopg2, args: {sslmode: prefer}}',
    'auto_join_rooms: ["#welcome:a"]',
    'disable_msisdn_registration: true',
  ];
  for (const line of harmless) {
    it(`starts with ${line}`, () => assert.doesNotThrow(() => parse(`server_name: a\n${line}\n`)));
  }
  it('names every refused key at once, one line each', () => {
    const lines = errorOf('server_name: a\nregistrations_require_3pid: [msisdn]\nsession_lifetime: 1d\n').split('\n');
    assert.equal(lines.length, 2);
  });
});

describe('config: email', () => {
  const smtp = 'email: {smtp_host: mail.example, notif_from: "%(app)s <noreply@example.org>", app_name: Tessera}';
  it('reads the email block with Synapse defaults', () => {
    const { config } = parse(`server_name: a\nregistrations_require_3pid: [email]\n${smtp}\n`);
    assert.equal(config.registrationRequiresEmail, true);
    assert.deepEqual(config.email, {
      smtpHost: 'mail.example',
      smtpPort: 25,
      smtpUser: null,
      smtpPass: null,
      forceTls: false,
      requireTransportSecurity: false,
      enableTls: true,
      notifFrom: 'Tessera <noreply@example.org>',
      appName: 'Tessera',
      validationTokenLifetimeMs: 3_600_000,
    });
    assert.deepEqual(config.rc3pidValidation, { perSecond: 0.003, burstCount: 5 });
  });
  it('no email block: no email, nothing required', () => {
    const { config } = parse('server_name: a\n');
    assert.equal(config.email, null);
    assert.equal(config.registrationRequiresEmail, false);
    assert.equal(config.allowedLocal3pids, null);
  });
  it('requiring email without smtp_host or notif_from stops start-up naming the key', () => {
    assert.match(errorOf('server_name: a\nregistrations_require_3pid: [email]\n'), /email\.smtp_host/);
    assert.match(
      errorOf('server_name: a\nregistrations_require_3pid: [email]\nemail: {smtp_host: h}\n'),
      /email\.notif_from/,
    );
  });
  it('allowed_local_3pids: patterns match from the start (Python re.match); a bad one names its key', () => {
    const { config } = parse(
      'server_name: a\nallowed_local_3pids: [{medium: email, pattern: "a.*@example\\\\.org"}]\n',
    );
    const rule = config.allowedLocal3pids![0]!;
    assert.equal(rule.pattern.test('alice@example.org'), true);
    rule.pattern.lastIndex = 0;
    assert.equal(rule.pattern.test('bob-alice@example.org'), false);
    assert.match(
      errorOf('server_name: a\nallowed_local_3pids: [{medium: email, pattern: "("}]\n'),
      /allowed_local_3pids\[0\]\.pattern/,
    );
  });
  it("Synapse's other email keys are ignored with a warning; a typo in the block is an error", () => {
    const { warnings } = parse(
      `server_name: a\npublic_baseurl: https://a/\nemail: {smtp_host: h, notif_from: f, enable_notifs: true, subjects: {password_reset: x}}\n`,
    );
    assert.equal(warnings.length, 2, warnings.join('\n'));
    assert.match(errorOf('server_name: a\nemail: {smtp_hots: h}\n'), /email\.smtp_hots/);
  });
});

describe('config: captcha providers', () => {
  it('the captcha block picks a provider; its siteverify endpoint is the default', () => {
    const { config } = parse(
      'server_name: a\nenable_registration_captcha: true\ncaptcha: {provider: turnstile, site_key: S, secret_key: K}\n',
    );
    assert.equal(config.captchaProvider, 'turnstile');
    assert.equal(config.recaptchaPublicKey, 'S');
    assert.equal(config.recaptchaPrivateKey, 'K');
    assert.equal(config.recaptchaSiteverifyApi, 'https://challenges.cloudflare.com/turnstile/v0/siteverify');
  });
  it("Synapse's recaptcha keys mean reCAPTCHA", () => {
    const { config } = parse(
      'server_name: a\nenable_registration_captcha: true\nrecaptcha_public_key: P\nrecaptcha_private_key: K\n',
    );
    assert.equal(config.captchaProvider, 'recaptcha');
    assert.equal(config.recaptchaSiteverifyApi, 'https://www.recaptcha.net/recaptcha/api/siteverify');
  });
  const bad: [string, RegExp][] = [
    [
      'captcha: {provider: hcaptcha, site_key: S, secret_key: K}\nrecaptcha_private_key: K',
      /at captcha: conflicts with recaptcha_private_key/,
    ],
    [
      'enable_registration_captcha: true\ncaptcha: {provider: hcaptcha, secret_key: K}',
      /at captcha\.site_key: required/,
    ],
    [
      'enable_registration_captcha: true\ncaptcha: {provider: hcaptcha, site_key: S}',
      /at captcha\.secret_key: required/,
    ],
    [
      'captcha: {provider: friendlycaptcha}',
      /at captcha\.provider: must be one of "recaptcha", "hcaptcha", "turnstile"/,
    ],
  ];
  for (const [yaml, expected] of bad) {
    it(`refuses ${yaml.split('\n')[0]}`, () => assert.match(errorOf(`server_name: a\n${yaml}\n`), expected));
  }
});

describe('config: public_baseurl and email', () => {
  it('warns when emailed links would be built from the default public_baseurl', () => {
    const { warnings } = parse('server_name: a\nemail: {smtp_host: mail, notif_from: "a <a@a>"}\n');
    assert.ok(
      warnings.some((w) => w.startsWith('public_baseurl is not set')),
      JSON.stringify(warnings),
    );
    const set = parse('server_name: a\npublic_baseurl: https://a/\nemail: {smtp_host: mail, notif_from: "a <a@a>"}\n');
    assert.deepEqual(set.warnings, []);
  });
  it('an email block without smtp_host is not used, and says so', () => {
    const { config, warnings } = parse('server_name: a\nemail: {notif_from: "a <a@a>"}\n');
    assert.equal(config.email, null);
    assert.deepEqual(warnings, ['the email block is not used: email.smtp_host is not set, so no mail is sent']);
  });
  it('generate-config points public_baseurl at the server name', () => {
    const { config } = parse(generateConfigYaml({ serverName: 'example.org', development: false }));
    assert.equal(config.publicBaseurl, 'https://example.org/');
  });
});

describe('config: metrics', () => {
  const listeners = 'listeners: [{port: 8008}, {port: 9000, type: metrics, bind_addresses: [10.0.0.5]}]';
  it('enable_metrics serves the type: metrics listeners', () => {
    const { config, warnings } = parse(`server_name: a\nenable_metrics: true\n${listeners}\n`);
    assert.deepEqual(config.metricsListeners, [{ port: 9000, bindAddresses: ['10.0.0.5'] }]);
    assert.deepEqual(
      config.listeners.map((l) => l.port),
      [8008],
    );
    assert.deepEqual(warnings, []);
  });
  it('without enable_metrics the metrics listener is not served, and says so', () => {
    const { config, warnings } = parse(`server_name: a\n${listeners}\n`);
    assert.deepEqual(config.metricsListeners, []);
    assert.deepEqual(warnings, ['listener listeners[1] (type metrics) is not served: enable_metrics is not true']);
  });
  it('enable_metrics without a metrics listener warns', () => {
    const { warnings } = parse('server_name: a\nenable_metrics: true\n');
    assert.deepEqual(warnings, ['enable_metrics is true, but no listener has type metrics: metrics are not served']);
  });
});

describe('config: generated files', () => {
  it('the development config keeps real limits but no lockout after a few logins from one address', () => {
    const { config } = parse(generateConfigYaml({ serverName: 'localhost', development: true }));
    assert.ok(config.rcLogin.address.burstCount >= 20 && config.rcLogin.address.perSecond >= 1);
    assert.deepEqual(config.rcLogin.failedAttempts, { perSecond: 0.17, burstCount: 3 });
    const production = parse(generateConfigYaml({ serverName: 'example.org', development: false })).config;
    assert.deepEqual(production.rcLogin.address, { perSecond: 0.003, burstCount: 5 });
  });

  for (const development of [false, true]) {
    it(`the ${development ? 'development' : 'generated'} config loads without warnings`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
      try {
        const file = join(dir, 'tessera.yaml');
        writeFileSync(file, generateConfigYaml({ serverName: 'example.com', development }));
        const { config, warnings } = loadConfigFile(file);
        assert.deepEqual(warnings, []);
        assert.equal(config.serverName, 'example.com');
        assert.equal(config.enableRegistration, development);
        assert.deepEqual(config.listeners, [{ port: 8008, bindAddresses: ['127.0.0.1'], xForwarded: false }]);
        assert.deepEqual(config.database, { kind: 'sqlite', path: join(dir, 'data/tessera.db') });
        assert.match(config.registrationSharedSecret ?? '', /^[A-Za-z0-9_-]{32}$/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
