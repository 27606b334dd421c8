import type { PasswordPolicy } from '../config/config.js';
import { MatrixError } from '../errors.js';
import { MAX_PASSWORD_LENGTH } from '../limits.js';

export { MAX_PASSWORD_LENGTH };

/**
 * Check a new password against Synapse's `password_config.policy` (synapse/handlers/
 * password_policy.py). Throws 400 M_WEAK_PASSWORD naming the first rule broken.
 */
export function checkPasswordPolicy(password: string, policy: PasswordPolicy | null): void {
  if (password.length === 0) throw new MatrixError('M_WEAK_PASSWORD', 'Password must not be empty');
  // Characters (code points), as Python's len() counts them in Synapse, not UTF-16 units.
  const length = password.length > 2 * MAX_PASSWORD_LENGTH ? password.length : [...password].length;
  if (length > MAX_PASSWORD_LENGTH) {
    throw new MatrixError('M_INVALID_PARAM', `Password must be at most ${MAX_PASSWORD_LENGTH} characters`);
  }
  if (policy === null) return;
  if (length < policy.minimumLength) {
    throw new MatrixError('M_WEAK_PASSWORD', `Password must be at least ${policy.minimumLength} characters`);
  }
  if (policy.requireDigit && !/[0-9]/.test(password)) {
    throw new MatrixError('M_WEAK_PASSWORD', 'Password must contain a digit');
  }
  if (policy.requireSymbol && !/[^a-zA-Z0-9]/.test(password)) {
    throw new MatrixError('M_WEAK_PASSWORD', 'Password must contain a symbol');
  }
  if (policy.requireLowercase && !/[a-z]/.test(password)) {
    throw new MatrixError('M_WEAK_PASSWORD', 'Password must contain a lowercase letter');
  }
  if (policy.requireUppercase && !/[A-Z]/.test(password)) {
    throw new MatrixError('M_WEAK_PASSWORD', 'Password must contain an uppercase letter');
  }
}
