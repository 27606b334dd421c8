import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { allRoutes } from '../../src/api/routes.js';
import { describeEachBackend, startServer, type TestServer } from '../helpers/server.js';

await describeEachBackend('GET /_tessera/openapi.json', (backend) => {
  let s: TestServer;
  let doc: any;
  before(async () => {
    s = await startServer({ backend });
    const res = await s.request('GET', '/_tessera/openapi.json');
    assert.equal(res.status, 200);
    doc = res.body;
  });
  after(() => s.close());

  it('is a valid OpenAPI 3.1 document (checked by an OpenAPI validator)', async () => {
    assert.equal(doc.openapi, '3.1.0');
    const result = await new Validator().validate(doc);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1));
  });

  it('describes every method of every path in the route table, and nothing else', () => {
    const expected = allRoutes
      .flatMap((r) => r.paths.map((p) => `${r.method.toLowerCase()} ${p.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`))
      .sort();
    const described = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`))
      .sort();
    assert.deepEqual(described, expected);
  });

  it('carries the request schemas the server validates with: the client API v1 registration', () => {
    const post = doc.paths['/_matrix/client/api/v1/register'].post;
    const schema = post.requestBody.content['application/json'].schema;
    assert.deepEqual(schema.required, ['type']);
    assert.equal(schema.properties.type.type, 'string');
    assert.equal(schema.properties.session.type, 'string');
    assert.match(post.summary, /registration stage/);
    assert.deepEqual(post.tags, ['client API v1 (legacy)']);
    assert.equal(post.security, undefined, 'registration needs no token');
    assert.ok(doc.paths['/_matrix/client/api/v1/register'].get);
  });

  it('path parameters, query parameters and token auth are declared', () => {
    const device = doc.paths['/_matrix/client/v3/devices/{deviceId}'];
    assert.deepEqual(
      device.get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`),
      ['path:deviceId'],
    );
    assert.deepEqual(device.get.security, [{ accessToken: [] }, { accessTokenQuery: [] }]);
    const users = doc.paths['/_synapse/admin/v2/users'].get;
    assert.match(users.description, /Server admins only/);
    assert.ok(users.parameters.some((p: { name: string; in: string }) => p.in === 'query' && p.name === 'limit'));
  });
});
