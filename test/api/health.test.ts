import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HealthService } from '../../src/service/health.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';

await describeEachBackend('GET /health', (backend) => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ backend });
  });
  after(() => s.close());

  it('answers 200 OK in plain text, without a token, when the database answers', async () => {
    const res = await fetch(`${s.url}/health`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(await res.text(), 'OK');
  });

  it('is GET only: another method gets a Matrix error', async () => {
    const res = await s.request('POST', '/health', {});
    assert.ok(res.status === 404 || res.status === 405, String(res.status));
    assert.equal(typeof res.body.errcode, 'string');
  });
});

describe('HealthService', () => {
  it('healthy when the ping resolves', async () => {
    assert.equal(await new HealthService({ ping: async () => {}, timeoutMs: 1000 }).healthy(), true);
  });
  it('unhealthy when the ping fails', async () => {
    const failing = new HealthService({ ping: () => Promise.reject(new Error('connection refused')), timeoutMs: 1000 });
    assert.equal(await failing.healthy(), false);
  });
  it('one ping answers every request within the cache time, concurrent ones included', async () => {
    let pings = 0;
    let t = 0;
    const health = new HealthService({
      ping: async () => {
        pings++;
      },
      timeoutMs: 1000,
      cacheMs: 1000,
      now: () => t,
    });
    const answers = await Promise.all(Array.from({ length: 50 }, () => health.healthy()));
    assert.deepEqual(new Set(answers), new Set([true]));
    assert.equal(pings, 1);
    t = 999;
    assert.equal(await health.healthy(), true);
    assert.equal(pings, 1);
    t = 1000;
    assert.equal(await health.healthy(), true);
    assert.equal(pings, 2);
  });
  it('unhealthy, and promptly, when the database does not answer', async () => {
    const began = Date.now();
    const hanging = new HealthService({ ping: () => new Promise(() => {}), timeoutMs: 50 });
    assert.equal(await hanging.healthy(), false);
    assert.ok(Date.now() - began < 1000);
  });
});
