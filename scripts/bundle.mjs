// `npm run build`, after tsc: the command line and the server bundled by esbuild into
// dist/bundle/ (tessera.js and the chunks it loads on demand), which `npm start` and the
// `tessera` bin run. Resolving and compiling a few hundred small modules is most of a start-up;
// one file per lazily loaded part is not. Left out of the bundle, loaded from node_modules:
// the native addons (better-sqlite3, @node-rs/argon2) and pg, which storage/open.ts and
// service/passwords.ts load only when needed; pino-pretty, loaded for the pretty log format only.
// pino is bundled: Tessera uses no pino transport (whose worker threads load files by path).
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// TESSERA_BUNDLE_OUT lets the bundle test build a copy of its own (two levels below the repository).
const outdir = process.env.TESSERA_BUNDLE_OUT ?? 'dist/bundle';
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { tessera: 'src/cli/main.ts' },
  outdir,
  // Chunks beside the entry: util/version.ts finds package.json two levels up, as from dist/util/.
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  external: ['better-sqlite3', '@node-rs/argon2', 'pg', 'pg-native', 'pino-pretty'],
  // Bundled CommonJS packages call require() for node's own modules.
  banner: {
    js: "import { createRequire as __tesseraRequire } from 'node:module'; const require = __tesseraRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
