import type { Static } from 'typebox';
import type { Allowed3pid, EmailConfig } from './config.js';
import { ConfigError } from './errors.js';
import type { ConfigFileSchema } from './schema.js';

type File = Static<typeof ConfigFileSchema>;

/**
 * Synapse's email settings (docs/usage/configuration/config_documentation.md, "email",
 * "registrations_require_3pid", "allowed_local_3pids"), checked as one: a config that requires
 * an email address at registration must say how to send the mail, or start-up fails naming the
 * missing key (Synapse refuses such a config too).
 */
export function emailSettings(
  file: File,
  parseDuration: (key: string, value: number | string) => number,
  warnings: string[],
): { email: EmailConfig | null; registrationRequiresEmail: boolean; allowedLocal3pids: Allowed3pid[] | null } {
  const block = file.email;
  const required = file.registrations_require_3pid ?? [];
  const registrationRequiresEmail = required.includes('email');
  let email: EmailConfig | null = null;
  if (block !== undefined && block.smtp_host === undefined && !registrationRequiresEmail) {
    // Synapse would try localhost; Tessera sends no mail without a host it was given.
    warnings.push('the email block is not used: email.smtp_host is not set, so no mail is sent');
  }
  if (block?.smtp_host !== undefined || registrationRequiresEmail) {
    const why = registrationRequiresEmail ? 'registrations_require_3pid includes email' : 'email.smtp_host is set';
    if (block?.smtp_host === undefined) throw new ConfigError(`missing config key email.smtp_host: ${why}`);
    if (block.notif_from === undefined) throw new ConfigError(`missing config key email.notif_from: ${why}`);
    const appName = block.app_name ?? 'Matrix';
    email = {
      smtpHost: block.smtp_host,
      // Synapse: 465 with force_tls, else 25.
      smtpPort: block.smtp_port ?? (block.force_tls === true ? 465 : 25),
      smtpUser: block.smtp_user ?? null,
      smtpPass: block.smtp_pass ?? null,
      forceTls: block.force_tls ?? false,
      requireTransportSecurity: block.require_transport_security ?? false,
      enableTls: block.enable_tls ?? true,
      // Synapse's placeholder: `%(app)s` is the app name.
      notifFrom: block.notif_from.replaceAll('%(app)s', appName),
      appName,
      validationTokenLifetimeMs: parseDuration(
        'email.validation_token_lifetime',
        block.validation_token_lifetime ?? '1h',
      ),
    };
  }
  const entries = file.allowed_local_3pids;
  const allowedLocal3pids =
    entries === undefined || entries.length === 0
      ? null
      : entries.map((entry, i) => {
          try {
            // Sticky: a match must start at the beginning, as Python's re.match does.
            return { medium: entry.medium, pattern: new RegExp(entry.pattern, 'y') };
          } catch (err) {
            throw new ConfigError(
              `invalid config value at allowed_local_3pids[${i}].pattern: ${(err as Error).message}`,
            );
          }
        });
  return { email, registrationRequiresEmail, allowedLocal3pids };
}
