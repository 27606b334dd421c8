import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { createApp } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';

it('serves every configured listener and address, and closes them all', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-listeners-'));
  const { config } = validateConfig(
    {
      server_name: 'localhost',
      listeners: [
        { port: 0, bind_addresses: ['127.0.0.1', '127.0.0.1'] },
        { port: 0, bind_addresses: ['127.0.0.1'] },
      ],
      database: { name: 'sqlite3', args: { database: join(dir, 't.db') } },
      log_level: 'silent',
      log_format: 'json',
    },
    dir,
  );
  const app = await createApp({ config });
  try {
    const urls = await app.listen();
    assert.equal(urls.length, 3);
    assert.equal(new Set(urls).size, 3, 'each address got its own port');
    for (const url of urls) {
      const res = await fetch(`${url}/_matrix/client/versions`);
      assert.equal(res.status, 200);
      assert.ok(Array.isArray(((await res.json()) as { versions: unknown }).versions));
    }
    await app.close();
    for (const url of urls) {
      await assert.rejects(fetch(`${url}/_matrix/client/versions`), 'closed listeners refuse connections');
    }
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
