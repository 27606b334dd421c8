import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generateConfigYaml } from '../config/generate.js';
import { type LoadedConfig, loadConfigFile } from '../config/load.js';
import { DEFAULT_CONFIG } from './common.js';

/**
 * The config to start with: --config, else ./tessera.yaml, else a development config that is
 * written to ./tessera.yaml first (localhost, 127.0.0.1:8008, SQLite under ./data/, open).
 */
export function resolveConfig(path: string | undefined): { loaded: LoadedConfig; path: string; generated: boolean } {
  if (path !== undefined) return { loaded: loadConfigFile(path), path: resolve(path), generated: false };
  const fallback = resolve(DEFAULT_CONFIG);
  let generated = false;
  if (!existsSync(fallback)) {
    writeFileSync(fallback, generateConfigYaml({ serverName: 'localhost', development: true }), {
      flag: 'wx',
    });
    generated = true;
  }
  return { loaded: loadConfigFile(fallback), path: fallback, generated };
}
