import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** A mail the sink received, decoded enough to read its link. */
export interface SunkMail {
  to: string[];
  subject: string;
  /** The whole message with quoted-printable undone. */
  body: string;
  /** The first submit_token link in the message, or null. */
  link: string | null;
}

export interface SmtpSink {
  port: number;
  mails: SunkMail[];
  /** The next mail to `to` not taken yet (waits up to `timeoutMs`). */
  next(to: string, timeoutMs?: number): Promise<SunkMail>;
  /** How many mails to `to` arrived so far (taken or not). */
  count(to: string): number;
  close(): Promise<void>;
}

function decodeQuotedPrintable(text: string): string {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const m = joined[i] === '=' ? /^[0-9A-F]{2}$/.exec(joined.slice(i + 1, i + 3)) : null;
    if (m) {
      bytes.push(Number.parseInt(m[0], 16));
      i += 2;
    } else bytes.push(joined.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** An SMTP server on 127.0.0.1 that keeps every mail in memory: the test's mailbox. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const mails: SunkMail[] = [];
  const taken = new Set<SunkMail>();
  const waiters: (() => void)[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const body = decodeQuotedPrintable(Buffer.concat(chunks).toString('utf8'));
        const subject = /^Subject: (.*)$/m.exec(body)?.[1]?.trim() ?? '';
        const link = /https?:\/\/[^\s"<>]+submit_token\?[^\s"<>]+/.exec(body)?.[0] ?? null;
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), subject, body, link });
        for (const w of waiters.splice(0)) w();
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  const find = (to: string) => mails.find((m) => !taken.has(m) && m.to.includes(to));
  return {
    port,
    mails,
    async next(to, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const mail = find(to);
        if (mail) {
          taken.add(mail);
          return mail;
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no mail to ${to} within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
    count: (to) => mails.filter((m) => m.to.includes(to)).length,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The `email:` block of a config that sends to `sink`. */
export function emailConfig(sink: SmtpSink): Record<string, unknown> {
  return {
    smtp_host: '127.0.0.1',
    smtp_port: sink.port,
    enable_tls: false,
    notif_from: 'Tessera <noreply@localhost>',
    app_name: 'Tessera test',
  };
}
