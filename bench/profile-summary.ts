// Summarise a V8 .cpuprofile (from `npm run bench -- --profile DIR`): self time per function and
// per package, heaviest first. Usage: tsx bench/profile-summary.ts FILE.cpuprofile [top] [last-seconds]
// (last-seconds: only the samples of the final seconds, e.g. the measured run before exit).
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const file = process.argv[2];
if (file === undefined) throw new Error('usage: profile-summary.ts FILE.cpuprofile [top]');
const top = Number(process.argv[3] ?? 30);
const lastUs = process.argv[4] === undefined ? Number.POSITIVE_INFINITY : Number(process.argv[4]) * 1e6;
const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };

const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
const times: number[] = [];
let t = 0;
for (const d of prof.timeDeltas) {
  t += d;
  times.push(t);
}
const end = t;
for (const [i, id] of prof.samples.entries()) {
  if (end - times[i]! > lastUs) continue;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

function where(url: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.includes('/src/')) return `src/${url.split('/src/')[1]}`;
  return url === '' ? '(native)' : url.startsWith('node:') ? 'node' : url;
}
const fn = new Map<string, number>();
const pkg = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  const w = where(n.callFrame.url);
  const key = `${n.callFrame.functionName || '(anonymous)'}  ${w}:${n.callFrame.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  pkg.set(w, (pkg.get(w) ?? 0) + us);
}
const show = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
};
show('self time by package/file', pkg);
show('self time by function', fn);
