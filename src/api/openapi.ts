import { TESSERA_VERSION } from '../util/version.js';
import { defineRoute, type Route } from './route.js';

/**
 * An OpenAPI 3.1 description of every endpoint Tessera serves, made from the route table: each
 * route's paths, method, auth and its request schemas (TypeBox emits JSON Schema, which OpenAPI
 * 3.1 uses as is). The same schemas validate the requests, so the document cannot drift from
 * what the server accepts. Served at `GET /_tessera/openapi.json`.
 */

type JsonObject = Record<string, unknown>;

const MATRIX_ERROR = {
  type: 'object',
  description: 'A Matrix error (client-server API, "Standard error response")',
  required: ['errcode', 'error'],
  properties: {
    errcode: { type: 'string', pattern: '^M_[A-Z_]+$', examples: ['M_FORBIDDEN'] },
    error: { type: 'string' },
  },
};

const UIA_CHALLENGE = {
  type: 'object',
  description: 'User-interactive authentication: the flows, what is completed, and the session',
  required: ['flows'],
  properties: {
    flows: {
      type: 'array',
      items: { type: 'object', properties: { stages: { type: 'array', items: { type: 'string' } } } },
    },
    params: { type: 'object' },
    session: { type: 'string' },
    completed: { type: 'array', items: { type: 'string' } },
  },
};

/** Which part of the server a path belongs to, for grouping. */
function tagOf(path: string): string {
  if (path.startsWith('/_matrix/client/api/v1')) return 'client API v1 (legacy)';
  if (path.startsWith('/_matrix/client')) return 'client-server API';
  if (path.startsWith('/_synapse/admin')) return 'Synapse admin API';
  return 'operations';
}

/** `/devices/:deviceId` → `/devices/{deviceId}` and the names of its parameters. */
function openapiPath(path: string): { path: string; params: string[] } {
  const params: string[] = [];
  const converted = path.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path: converted, params };
}

/** A TypeBox schema as plain JSON Schema (its symbol-keyed metadata dropped). */
function plain(schema: unknown): JsonObject {
  return JSON.parse(JSON.stringify(schema)) as JsonObject;
}

function queryParameters(route: Route): JsonObject[] {
  if (route.querystring === null) return [];
  const schema = plain(route.querystring) as { properties?: Record<string, JsonObject>; required?: string[] };
  return Object.entries(schema.properties ?? {}).map(([name, s]) => ({
    name,
    in: 'query',
    required: schema.required?.includes(name) ?? false,
    schema: s,
  }));
}

function operation(route: Route, path: string, params: string[]): JsonObject {
  const op: JsonObject = {
    operationId: `${route.method.toLowerCase()} ${path}`,
    summary: route.summary ?? `${route.method} ${path}`,
    tags: [tagOf(path)],
    parameters: [
      ...params.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
      ...queryParameters(route),
    ],
    responses: {
      '200': { description: 'Success', content: { 'application/json': { schema: { type: 'object' } } } },
      default: {
        description: 'A Matrix error; or, where the endpoint uses user-interactive authentication, a 401 challenge',
        content: { 'application/json': { schema: { anyOf: [MATRIX_ERROR, UIA_CHALLENGE] } } },
      },
    },
  };
  if (route.body !== null) {
    op.requestBody = {
      required: route.bodyRequired,
      content: { 'application/json': { schema: plain(route.body) } },
    };
  }
  if (route.auth === 'required' || route.auth === 'admin')
    op.security = [{ accessToken: [] }, { accessTokenQuery: [] }];
  if (route.auth === 'optional') op.security = [{}, { accessToken: [] }, { accessTokenQuery: [] }];
  if (route.auth === 'admin') op.description = 'Server admins only: anyone else gets 403 M_FORBIDDEN.';
  return op;
}

/** The whole document for `routes`. */
export function openapiDocument(routes: readonly Route[]): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const route of routes) {
    for (const raw of route.paths) {
      const { path, params } = openapiPath(raw);
      paths[path] ??= {};
      paths[path][route.method.toLowerCase()] = operation(route, path, params);
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tessera',
      version: TESSERA_VERSION,
      description:
        'The account service of a Matrix homeserver: registration (the client API v1 and v3), login, tokens, devices, and Synapse’s admin API for accounts.',
    },
    tags: ['client-server API', 'client API v1 (legacy)', 'Synapse admin API', 'operations'].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        accessToken: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <access token>' },
        accessTokenQuery: {
          type: 'apiKey',
          in: 'query',
          name: 'access_token',
          description: 'The access token as a query parameter (deprecated by the spec, still accepted)',
        },
      },
    },
  };
}

/**
 * `GET /_tessera/openapi.json`. `routes` is read when first asked, so the route table can list
 * this route too; the document is built once.
 */
export function openapiRoutes(routes: () => readonly Route[]): Route[] {
  let document: JsonObject | null = null;
  return [
    defineRoute(
      {
        method: 'GET',
        paths: ['/_tessera/openapi.json'],
        auth: 'none',
        summary: 'This document: every endpoint Tessera serves, in OpenAPI 3.1',
      },
      () => {
        document ??= openapiDocument(routes());
        return document;
      },
    ),
  ];
}
