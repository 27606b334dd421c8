import { createInterface } from 'node:readline/promises';

/** A value the command needs, and no terminal to ask for it on. */
export class NoTerminal extends Error {}

/** Questions on the terminal (on standard output, as Synapse's scripts ask); a missing value without a terminal is an error, never a hang. */
export class Prompter {
  private rl: ReturnType<typeof createInterface> | null = null;

  async ask(question: string, secret = false): Promise<string> {
    if (!process.stdin.isTTY) {
      throw new NoTerminal(`${question.replace(/[:[].*$/, '').trim()} is required (no terminal to ask on)`);
    }
    this.rl ??= createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    const rl = this.rl as unknown as { _writeToOutput(s: string): void };
    const write = rl._writeToOutput.bind(rl);
    // Echo nothing of a password, as getpass does.
    if (secret) rl._writeToOutput = (s: string) => write(s.startsWith(question) ? question : '');
    try {
      return (await this.rl.question(question)).trim();
    } finally {
      rl._writeToOutput = write;
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
