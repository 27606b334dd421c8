import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { loadConfigFile } from '../../src/config/load.js';
import { openDatabase } from '../../src/storage/open.js';
import { createStorage } from '../../src/storage/storage.js';
import { backendRuns, describeOrSkip } from '../helpers/backends.js';
import {
  call,
  type HttpResult,
  type SharedDatabase,
  sharedDatabase,
  startTessera,
  type TesseraProcess,
  writeConfig,
} from '../helpers/processes.js';

// A one-use registration token raced by 12 sign-ups over two real processes on one database:
// exactly one account, no 5xx. The use is taken by one UPDATE that checks and counts at once
// (src/storage/repos/registration-tokens.ts), so no interleaving of the processes can let two
// sessions through.

const V3 = '/_matrix/client/v3/register';
const STAGE = 'm.login.registration_token';
const SIGN_UPS = 12;

/** The token's counters, read over a connection of the test's own. */
async function counters(configPath: string, token: string) {
  const db = await openDatabase(loadConfigFile(configPath).config.database);
  try {
    const row = await createStorage(db.db, db.dialect).registrationTokens.find(token);
    return { pending: Number(row?.pending), completed: Number(row?.completed) };
  } finally {
    await db.close();
  }
}

function assertNo5xx(results: HttpResult[]): void {
  for (const r of results) assert.ok(r.status < 500, JSON.stringify(r));
}

for (const { backend, skip } of await backendRuns()) {
  describeOrSkip(`a one-use registration token raced over two processes [${backend}]`, skip, () => {
    let db: SharedDatabase;
    let configPath: string;
    let a: TesseraProcess;
    let b: TesseraProcess;

    before(async () => {
      db = sharedDatabase(backend);
      configPath = writeConfig(db, { registration_requires_token: true });
      [a, b] = await Promise.all([startTessera(configPath), startTessera(configPath)]);
      const open = await openDatabase(loadConfigFile(configPath).config.database);
      try {
        const storage = createStorage(open.db, open.dialect);
        for (const token of ['race-one', 'race-two']) {
          const created = await storage.registrationTokens.create({
            token,
            uses_allowed: 1,
            pending: 0,
            completed: 0,
            expiry_time: null,
            created_ts: Date.now(),
          });
          assert.ok(created);
        }
      } finally {
        await open.close();
      }
    });

    after(async () => {
      const exits = await Promise.all([a?.stop(), b?.stop()]);
      await db?.cleanup();
      for (const e of exits) if (e) assert.deepEqual(e, { code: 0, signal: null });
    });

    it('12 sessions submit the token at once, half on each process: one holds it, one account', async () => {
      const urls = Array.from({ length: SIGN_UPS }, (_, i) => (i % 2 === 0 ? a.url : b.url));
      const challenges = await Promise.all(urls.map((url, i) => call(url, 'POST', V3, { username: `racer${i}` })));
      assertNo5xx(challenges);
      const sessions = challenges.map((c) => c.body.session as string);
      const staged = await Promise.all(
        urls.map((url, i) => call(url, 'POST', V3, { auth: { type: STAGE, token: 'race-one', session: sessions[i] } })),
      );
      assertNo5xx(staged);
      const holders = staged.flatMap((r, i) => (r.body.errcode === undefined ? [i] : []));
      assert.equal(holders.length, 1, JSON.stringify(staged.map((r) => r.body.errcode ?? 'held')));
      for (const r of staged) {
        assert.equal(r.status, 401);
        if (r.body.errcode !== undefined) assert.equal(r.body.errcode, 'M_UNAUTHORIZED', JSON.stringify(r.body));
      }
      // Every session, holder or not, now tries to finish, on the other process.
      const finished = await Promise.all(
        urls.map((url, i) =>
          call(url === a.url ? b.url : a.url, 'POST', V3, {
            password: 'pw',
            auth: { type: 'm.login.dummy', session: sessions[i] },
          }),
        ),
      );
      assertNo5xx(finished);
      const registered = finished.filter((r) => r.status === 200);
      assert.equal(registered.length, 1, JSON.stringify(finished));
      assert.equal(registered[0]!.body.user_id, `@racer${holders[0]}:localhost`);
      assert.deepEqual(await counters(configPath, 'race-one'), { pending: 0, completed: 1 });
    });

    it('12 one-shot sign-ups (token stage without a session, then dummy) over both processes: one account', async () => {
      const attempts = Array.from({ length: SIGN_UPS }, async (_, i) => {
        const [first, second] = i % 2 === 0 ? [a.url, b.url] : [b.url, a.url];
        const staged = await call(first, 'POST', V3, {
          username: `oneshot${i}`,
          auth: { type: STAGE, token: 'race-two' },
        });
        if (staged.body.errcode !== undefined || staged.status !== 401) return [staged];
        const done = await call(second, 'POST', V3, {
          password: 'pw',
          auth: { type: 'm.login.dummy', session: staged.body.session },
        });
        return [staged, done];
      });
      const results = (await Promise.all(attempts)).flat();
      assertNo5xx(results);
      assert.equal(results.filter((r) => r.status === 200).length, 1, JSON.stringify(results));
      assert.deepEqual(await counters(configPath, 'race-two'), { pending: 0, completed: 1 });
    });
  });
}
