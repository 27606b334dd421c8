import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';

/** A value the command needs, and no terminal to ask for it on. */
export class NoTerminal extends Error {}

/**
 * Questions on the terminal, on standard output as Synapse's scripts ask them. A missing value
 * without a terminal is an error (NoTerminal), never a hang.
 */
export class Prompter {
  private rl: ReturnType<typeof createInterface> | null = null;
  /** While true, what readline echoes is dropped: a password is not shown, as getpass does. */
  private muted = false;

  async ask(question: string, secret = false): Promise<string> {
    if (!process.stdin.isTTY) {
      throw new NoTerminal(`${question.replace(/[:[].*$/, '').trim()} is required (no terminal to ask on)`);
    }
    if (this.rl === null) {
      const output = new Writable({
        write: (chunk: Buffer, _encoding, done) => {
          if (!this.muted) process.stdout.write(chunk);
          done();
        },
      });
      this.rl = createInterface({ input: process.stdin, output, terminal: true });
    }
    // A secret's question is written here, since readline echoes nothing of it then.
    if (secret) process.stdout.write(question);
    this.muted = secret;
    try {
      return (await this.rl.question(secret ? '' : question)).trim();
    } finally {
      this.muted = false;
      if (secret) process.stdout.write('\n');
    }
  }

  close(): void {
    this.rl?.close();
  }
}

/**
 * The first line of standard input when it is not a terminal (a pipe or a file: `echo pw |
 * tessera …`), without its line ending; null when it ends before any line.
 */
export async function readStdinLine(): Promise<string | null> {
  const rl = createInterface({ input: process.stdin, terminal: false, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of rl) return line;
    return null;
  } finally {
    rl.close();
  }
}
