import { sharedSecretMac } from '../service/shared-secret-registration.js';

export interface SharedSecretClientRequest {
  /** Base URL of the server. */
  url: string;
  secret: string;
  user: string;
  password: string;
  admin: boolean;
  userType: string | null;
  /** An M_USER_IN_USE answer is success ("User already exists. Skipping."). */
  existsOk: boolean;
  print(line: string): void;
}

/**
 * The client half of Synapse's shared-secret registration, request for request and line for
 * line what `register_new_matrix_user` does: GET a nonce, POST the HMAC-SHA1 of
 * `nonce NUL user NUL password NUL admin|notadmin [NUL user_type]` keyed by the secret.
 * Returns the exit status (0 success, 1 failure).
 */
export async function sharedSecretRequest(req: SharedSecretClientRequest): Promise<number> {
  const endpoint = `${req.url.replace(/\/+$/, '')}/_synapse/admin/v1/register`;
  const got = await send(endpoint, { method: 'GET' }, req.print);
  if (got.status !== 200) return fail(got, req.print);
  const nonce = (got.body as { nonce?: unknown } | null)?.nonce;
  if (typeof nonce !== 'string') {
    req.print('ERROR! The server answered without a nonce');
    return 1;
  }
  const fields = { nonce, username: req.user, password: req.password, admin: req.admin, userType: req.userType };
  const body = {
    nonce,
    username: req.user,
    password: req.password,
    mac: sharedSecretMac(req.secret, fields),
    admin: req.admin,
    user_type: req.userType,
  };
  req.print('Sending registration request...');
  const posted = await send(
    endpoint,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    req.print,
  );
  if (posted.status !== 200) {
    if (req.existsOk && (posted.body as { errcode?: unknown } | null)?.errcode === 'M_USER_IN_USE') {
      req.print('User already exists. Skipping.');
      return 0;
    }
    return fail(posted, req.print);
  }
  req.print('Success!');
  return 0;
}

interface Answer {
  status: number;
  statusText: string;
  body: unknown;
}

async function send(url: string, init: RequestInit, print: (line: string) => void): Promise<Answer> {
  try {
    const res = await fetch(url, init);
    const text = await res.text();
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, statusText: res.statusText, body };
  } catch (err) {
    print(`ERROR! Could not reach ${url}: ${(err as Error).cause ?? (err as Error).message}`);
    return { status: 0, statusText: '', body: null };
  }
}

/** "ERROR! Received 403 Forbidden" and, for a 4xx, the server's `error` text. */
function fail(answer: Answer, print: (line: string) => void): number {
  if (answer.status === 0) return 1;
  print(`ERROR! Received ${answer.status} ${answer.statusText}`);
  const error = (answer.body as { error?: unknown } | null)?.error;
  if (answer.status >= 400 && answer.status < 500 && typeof error === 'string') print(error);
  return 1;
}
