import type { Transporter } from 'nodemailer';
import type { EmailConfig } from '../config/config.js';

/** One mail: plain text and HTML of the same message. */
export interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Sends mail; app.ts injects it, so tests may use an SMTP sink or a recorder. */
export interface Mailer {
  /** Resolves once the SMTP server accepted the mail; rejects when it could not be sent. */
  send(mail: Mail): Promise<void>;
  close(): void;
}

/**
 * Mail through the SMTP server of Synapse's `email:` block (docs/usage/configuration/
 * config_documentation.md, "email"): `force_tls` is TLS from the first byte; otherwise the
 * connection upgrades with STARTTLS when the server offers it, unless `enable_tls` is false,
 * and `require_transport_security` refuses to send without it. Certificates are verified.
 */
export function createSmtpMailer(config: EmailConfig): Mailer {
  // nodemailer is loaded with the first mail, not at start (it is most of the server's code).
  let transport: Promise<Transporter> | null = null;
  const open = async (): Promise<Transporter> => {
    const { createTransport } = await import('nodemailer');
    return createTransport({
      host: config.smtpHost,
      port: config.smtpPort,
      secure: config.forceTls,
      requireTLS: config.requireTransportSecurity,
      ignoreTLS: !config.enableTls && !config.forceTls,
      ...(config.smtpUser !== null && { auth: { user: config.smtpUser, pass: config.smtpPass ?? '' } }),
      // Bounded waits: a request waiting for its mail never hangs on an unresponsive server.
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    });
  };
  return {
    async send(mail) {
      transport ??= open();
      await (await transport).sendMail({ from: config.notifFrom, ...mail });
    },
    close: () => {
      void transport?.then((t) => t.close()).catch(() => {});
    },
  };
}
