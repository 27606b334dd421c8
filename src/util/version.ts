import { readFileSync } from 'node:fs';

/** Tessera's version, from package.json (one level above src/ and dist/), read once. */
export const TESSERA_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
