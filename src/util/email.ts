import { MatrixError } from '../errors.js';
import { MAX_CLIENT_SECRET_LENGTH, MAX_EMAIL_LENGTH } from '../limits.js';

/** Spec "Adding Account Administrative Contact Information": `client_secret` and `sid` are `[0-9a-zA-Z.=_-]`, 1–255. */
const SECRET_GRAMMAR = new RegExp(`^[0-9a-zA-Z.=_-]{1,${MAX_CLIENT_SECRET_LENGTH}}$`);

export function isClientSecretShaped(value: string): boolean {
  return SECRET_GRAMMAR.test(value);
}

/** 400 M_INVALID_PARAM unless `value` follows the client secret grammar. */
export function assertClientSecret(value: string): void {
  if (!isClientSecretShaped(value)) {
    throw new MatrixError('M_INVALID_PARAM', 'Invalid client_secret: 1 to 255 characters of [0-9a-zA-Z.=_-]');
  }
}

/**
 * The stored form of an email address, or 400 M_INVALID_PARAM: surrounding spaces trimmed and
 * lower-cased, as Synapse's canonicalise_email does, so one mailbox is one address whatever
 * case a client sends. One `@` with something either side, no spaces or control characters, at
 * most MAX_EMAIL_LENGTH characters.
 */
export function canonicalEmail(raw: string): string {
  const address = raw.trim();
  const at = address.lastIndexOf('@');
  const ok =
    address.length <= MAX_EMAIL_LENGTH &&
    at > 0 &&
    at < address.length - 1 &&
    address.indexOf('@') === at &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    !/[\s\u0000-\u001f\u007f<>]/.test(address);
  if (!ok) throw new MatrixError('M_INVALID_PARAM', 'Unable to parse email address');
  return address.toLowerCase();
}
