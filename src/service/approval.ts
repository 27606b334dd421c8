import { MatrixError } from '../errors.js';

/*
 * Approval of new accounts (MSC3866, "M_USER_AWAITING_APPROVAL error code"), as Synapse does
 * it with `experimental_features.msc3866` (its docs: config_documentation.md):
 * - an account made by open registration (v1, v3) starts unapproved while approval is required;
 *   accounts an operator makes (shared-secret registration, the admin API's PUT, unless it says
 *   `approved: false`) are approved, as are guests (they get their token at once, as in Synapse);
 * - the request that creates an unapproved account answers 403 instead of logging it in, and
 *   so does every login of it with the right password, until an admin approves it
 *   (`PUT /_synapse/admin/v2/users/<user_id>` with `approved: true`, or `tessera users approve`).
 *
 * The errcode and `approval_notice_medium` are the unstable identifiers Synapse sends
 * (`ORG.MATRIX.MSC3866_USER_AWAITING_APPROVAL`, `org.matrix.msc3866.none`), not the stable
 * `M_USER_AWAITING_APPROVAL` / `m.none`: the MSC is not merged, and it says unstable
 * identifiers must be used until it is. Clients written against Synapse expect these.
 */

export const AWAITING_APPROVAL = 'ORG.MATRIX.MSC3866_USER_AWAITING_APPROVAL';

/** MSC3866 `m.none` (unstable): the user is not told by the server when they are approved. */
export const APPROVAL_NOTICE_NONE = 'org.matrix.msc3866.none';

/** The last registration request, when the account it created awaits approval (Synapse's words). */
export function registeredAwaitingApproval(): MatrixError {
  return new MatrixError(
    AWAITING_APPROVAL,
    'This account needs to be approved by an administrator before it can be used.',
    { approval_notice_medium: APPROVAL_NOTICE_NONE },
  );
}

/** A login of an account awaiting approval, with the right password (Synapse's words). */
export function loginAwaitingApproval(): MatrixError {
  return new MatrixError(AWAITING_APPROVAL, 'This account is pending approval by a server administrator.', {
    approval_notice_medium: APPROVAL_NOTICE_NONE,
  });
}
