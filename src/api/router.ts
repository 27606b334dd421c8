import { MatrixError } from '../errors.js';
import { MAX_DEVICE_ID_LENGTH } from '../limits.js';
import type { Route } from './route.js';

/**
 * Longest path parameter, counted in UTF-16 units after percent-decoding. A device id of
 * MAX_DEVICE_ID_LENGTH characters takes at most two units per character, so every id the server
 * accepts can be addressed as `/devices/{deviceId}` (src/util/device-id.ts). Longer parameters
 * are 400 M_INVALID_PARAM.
 */
const MAX_PARAM_LENGTH = 3 * MAX_DEVICE_ID_LENGTH;

/** A route found for a request: the route, the path alias it was found under, and its parameters. */
export interface RouteMatch {
  route: Route;
  /** The declared path (`/_matrix/client/v3/devices/:deviceId`): the metrics' route label. */
  pattern: string;
  params: Record<string, string>;
}

/** Some route serves this path, but not with this method: 405 (spec v1.6, "API standards"). */
export const WRONG_METHOD = Symbol('wrong method');

interface ParamPattern {
  pattern: string;
  /** One entry per path segment: the literal text, or null for a parameter. */
  segments: (string | null)[];
  names: string[];
  byMethod: Map<string, Route>;
}

/** The parameters of a path without any (one shared object). */
export const NO_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/**
 * The route table as a lookup. Paths without parameters are one map lookup on the raw path (the
 * hot path: whoami, login, register); a path with percent-escapes, or a route with parameters,
 * is split into segments, each percent-decoded, and compared segment by segment, so
 * `/devices/a%2Fb` has the parameter `a/b`. A path that is not percent-encoded UTF-8 is
 * 400 M_INVALID_PARAM. `HEAD` finds the `GET` route (node sends no body for HEAD).
 */
export class Router {
  private readonly statics = new Map<string, Map<string, Route>>();
  private readonly patterns: ParamPattern[] = [];

  constructor(routes: readonly Route[]) {
    for (const route of routes) {
      for (const path of route.paths) {
        if (!path.includes(':')) {
          const byMethod = this.statics.get(path) ?? new Map<string, Route>();
          this.statics.set(path, byMethod);
          add(byMethod, route, path);
          continue;
        }
        let p = this.patterns.find((x) => x.pattern === path);
        if (p === undefined) {
          const parts = path.split('/');
          p = {
            pattern: path,
            segments: parts.map((s) => (s.startsWith(':') ? null : s)),
            names: parts.filter((s) => s.startsWith(':')).map((s) => s.slice(1)),
            byMethod: new Map(),
          };
          this.patterns.push(p);
        }
        add(p.byMethod, route, path);
      }
    }
    // Literal segments before parameters, leftmost first: `/users/me/x` before `/users/:id/x`.
    const shape = (p: ParamPattern) => p.segments.map((s) => (s === null ? '1' : '0')).join('');
    this.patterns.sort((a, b) => (shape(a) < shape(b) ? -1 : shape(a) > shape(b) ? 1 : 0));
  }

  /** The route for `method` at `path` (no query string), WRONG_METHOD, or null (404). */
  find(method: string, path: string): RouteMatch | typeof WRONG_METHOD | null {
    const m = method === 'HEAD' ? 'GET' : method;
    // A literal path may also match a pattern (`registration_tokens/new` and `…/:token`).
    let known = false;
    const exact = this.statics.get(path);
    if (exact !== undefined) {
      const route = exact.get(m);
      if (route !== undefined) return { route, pattern: path, params: NO_PARAMS };
      known = true;
    }
    const segments = decodeSegments(path);
    if (exact === undefined && path.includes('%') && !segments.some((s) => s.includes('/'))) {
      // Escapes in a literal path: only when no segment held an escaped slash.
      const decoded = segments.join('/');
      const route = this.statics.get(decoded)?.get(m);
      if (route !== undefined) return { route, pattern: decoded, params: NO_PARAMS };
      known ||= this.statics.has(decoded);
    }
    for (const p of this.patterns) {
      if (!matches(p.segments, segments)) continue;
      known = true;
      const route = p.byMethod.get(m);
      if (route === undefined) continue;
      const params: Record<string, string> = {};
      let n = 0;
      for (let i = 0; i < segments.length; i++) {
        if (p.segments[i] !== null) continue;
        const value = segments[i]!;
        if (value.length > MAX_PARAM_LENGTH) throw new MatrixError('M_INVALID_PARAM', 'Path parameter too long');
        params[p.names[n++]!] = value;
      }
      return { route, pattern: p.pattern, params };
    }
    return known ? WRONG_METHOD : null;
  }
}

function add(byMethod: Map<string, Route>, route: Route, path: string): void {
  if (byMethod.has(route.method)) throw new Error(`two routes for ${route.method} ${path}`);
  byMethod.set(route.method, route);
}

/** A parameter matches any non-empty segment; literal segments match exactly. */
function matches(pattern: (string | null)[], segments: string[]): boolean {
  if (pattern.length !== segments.length) return false;
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i];
    if (want === null ? segments[i] === '' : want !== segments[i]) return false;
  }
  return true;
}

function decodeSegments(path: string): string[] {
  const raw = path.split('/');
  if (!path.includes('%')) return raw;
  try {
    return raw.map((s) => (s.includes('%') ? decodeURIComponent(s) : s));
  } catch {
    throw new MatrixError('M_INVALID_PARAM', 'Path is not valid percent-encoded UTF-8');
  }
}
