// The benchmark's one table: throughput rows (req/s, latency, CPU per request) and the
// start-up and memory figures, each with the goal it is held against.

export interface Row {
  what: string;
  server: string;
  /** "28216 req/s", "0.41 s", "78 MB". */
  result: string;
  p50Ms?: number;
  p99Ms?: number;
  /** Server CPU (user+system, from /proc) per response, in µs. */
  cpuUsPerReq?: number | null;
  /** What other processes used meanwhile, in % of one CPU. */
  othersPct?: number | null;
  non2xx?: number;
  /** The goal, and whether this run met it (null: no goal on this row). */
  goal?: string;
  met?: boolean | null;
}

export function fmt(n: number | null | undefined, digits = 0): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '' : n.toFixed(digits);
}

/** µs below 10 ms, else ms: whoami costs tens of µs, a registration tens of ms. */
function cpu(us: number | null | undefined): string {
  if (us === null || us === undefined || !Number.isFinite(us)) return '';
  return us < 10_000 ? `${us.toFixed(0)} µs` : `${(us / 1000).toFixed(1)} ms`;
}

export function printTable(rows: Row[]): void {
  const head = ['what', 'server', 'result', 'p50 ms', 'p99 ms', 'CPU/req', 'others %', 'non-2xx', 'goal', 'met'];
  const body = rows.map((r) => [
    r.what,
    r.server,
    r.result,
    fmt(r.p50Ms, 2),
    fmt(r.p99Ms, 2),
    cpu(r.cpuUsPerReq),
    fmt(r.othersPct),
    r.non2xx === undefined ? '' : String(r.non2xx),
    r.goal ?? '',
    r.met === undefined || r.met === null ? '' : r.met ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const left = new Set([0, 1, 8]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (left.has(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
}
