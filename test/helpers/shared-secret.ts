import { createHmac } from 'node:crypto';

/** The MAC of Synapse's shared-secret registration, computed as register_new_matrix_user does. */
export function sharedSecretMac(
  secret: string,
  nonce: string,
  username: string,
  password: string,
  admin: boolean,
  userType: string | null = null,
): string {
  const mac = createHmac('sha1', secret);
  mac.update(nonce).update('\0').update(username).update('\0').update(password).update('\0');
  mac.update(admin ? 'admin' : 'notadmin');
  if (userType) mac.update('\0').update(userType);
  return mac.digest('hex');
}

/** The body register_new_matrix_user POSTs (it always sends `user_type`, null when not given). */
export function sharedSecretBody(
  secret: string,
  nonce: string,
  username: string,
  password: string,
  admin: boolean,
  userType: string | null = null,
): Record<string, unknown> {
  return {
    nonce,
    username,
    password,
    mac: sharedSecretMac(secret, nonce, username, password, admin, userType),
    admin,
    user_type: userType,
  };
}
