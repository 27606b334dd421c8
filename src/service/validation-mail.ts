import { escapeHtml } from '../util/html.js';
import type { ValidationPurpose } from './email-validation.js';
import type { Mail } from './mailer.js';

/** The subject and body of a validation mail, with Synapse's default subjects. */
export function validationMail(
  purpose: ValidationPurpose,
  link: string,
  appName: string,
  serverName: string,
): Omit<Mail, 'to'> {
  // Synapse's default subjects (email.subjects.email_validation, .password_reset).
  const subject = purpose === 'register' ? `[${serverName}] Validate your email` : `[${serverName}] Password reset`;
  const what =
    purpose === 'register'
      ? `You have asked ${appName} on ${serverName} to register this email with a new account.`
      : `A password reset request has been received for your ${appName} account on ${serverName}.`;
  const ignore =
    purpose === 'register'
      ? 'If this was not you, you can safely ignore this email.'
      : 'If this was not you, do not follow the link: your password will stay the same.';
  const action = purpose === 'register' ? 'validate this email address' : 'confirm the reset';
  return {
    subject,
    text: `Hello,\n\n${what} To ${action}, open this link:\n\n${link}\n\n${ignore}\n`,
    html: `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>
<body>
<p>Hello,</p>
<p>${escapeHtml(what)} To ${escapeHtml(action)}, <a href="${escapeHtml(link)}">open this link</a>:</p>
<p>${escapeHtml(link)}</p>
<p>${escapeHtml(ignore)}</p>
</body></html>
`,
  };
}
