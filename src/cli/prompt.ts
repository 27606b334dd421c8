import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';

/** A question that needs a terminal was asked without one. */
export class NoTerminal extends Error {}

/**
 * Questions on the terminal; a missing value without a terminal is an error, never a hang.
 * Prompts go to `output` (standard output by default; standard error for a command whose
 * standard output is its result).
 */
export class Prompter {
  private rl: ReturnType<typeof createInterface> | null = null;
  /** While true, readline's echo of what is typed goes nowhere (a password, as getpass does). */
  private muted = false;
  private readonly sink: Writable;

  constructor(private readonly output: NodeJS.WritableStream = process.stdout) {
    this.sink = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        if (!this.muted) this.output.write(chunk);
        done();
      },
    });
  }

  /** The answer, trimmed unless `exact` (a password to hash is taken as typed, like getpass). */
  async ask(question: string, secret = false, exact = false): Promise<string> {
    if (!process.stdin.isTTY) {
      throw new NoTerminal(`${question.replace(/[:[].*$/, '').trim()} is required (no terminal to ask on)`);
    }
    this.rl ??= createInterface({ input: process.stdin, output: this.sink, terminal: true });
    if (secret) {
      this.output.write(question);
      this.muted = true;
    }
    try {
      const answer = await this.rl.question(secret ? '' : question);
      return exact ? answer : answer.trim();
    } finally {
      if (secret) {
        this.muted = false;
        this.output.write('\n');
      }
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
