import type { RawFailure, RawResponse } from './http.js';
import type { FuzzRequest } from './requests.js';

/**
 * What every reply must look like (spec: client-server API, "Standard error response"): never a
 * 5xx; an error is a JSON object with string `errcode` and `error`, except a UIA 401 challenge
 * (which has `flows`); a success is JSON, except the HTML pages (the UIA fallback pages, the
 * terms of service at `/_matrix/consent`, the page an emailed link opens, HTML for errors too)
 * and the plain `OK` of `GET /health` (load balancers' format, as Synapse's).
 */

export interface Failure {
  request: FuzzRequest;
  status: number | null;
  problem: string;
  body: string;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isHtmlPage(req: FuzzRequest, res: RawResponse): boolean {
  const page = req.pattern.endsWith('/fallback/web') || req.pattern === '/_matrix/consent';
  return req.method === 'GET' && page && res.contentType.startsWith('text/html');
}

/** The page an emailed link opens: HTML for success and failure alike (a person reads it). */
function isSubmitTokenPage(req: FuzzRequest, res: RawResponse): boolean {
  return req.method === 'GET' && req.pattern.endsWith('/email/submit_token') && res.contentType.startsWith('text/html');
}

function isHealthOk(req: FuzzRequest, res: RawResponse): boolean {
  return (
    req.method === 'GET' && req.pattern === '/health' && res.contentType.startsWith('text/plain') && res.text === 'OK'
  );
}

/** The problem with this reply, or null when it is a proper Matrix reply. */
export function problemWith(req: FuzzRequest, res: RawResponse | RawFailure): string | null {
  if ('error' in res) return `no reply (${res.error})`;
  const { status } = res;
  if (status >= 500) return 'server error';
  if (status < 200 || (status >= 300 && status < 400)) return 'unexpected status';
  if (isSubmitTokenPage(req, res)) return null;
  const body = parse(res.text);
  if (status < 300) {
    if (isHtmlPage(req, res) || isHealthOk(req, res)) return null;
    return body !== undefined && typeof body === 'object' ? null : 'success body not JSON';
  }
  if (body === undefined || typeof body !== 'object' || body === null) return 'error body not JSON';
  const b = body as Record<string, unknown>;
  if (status === 401 && Array.isArray(b.flows)) return null;
  if (typeof b.errcode !== 'string' || typeof b.error !== 'string') return 'error body without errcode and error';
  if (!/^M_[A-Z_]+$/.test(b.errcode)) return 'errcode not a Matrix errcode';
  if (!res.contentType.startsWith('application/json')) return 'error body not application/json';
  return null;
}

export function failureOf(req: FuzzRequest, res: RawResponse | RawFailure, problem: string): Failure {
  return {
    request: req,
    status: 'error' in res ? null : res.status,
    problem,
    body: 'error' in res ? '' : res.text.slice(0, 300),
  };
}

/** The class of an input label: lengths and depths kept, ids and counts dropped. */
function inputClass(label: string): string {
  return label
    .split(' ')
    .filter((part) => !part.startsWith('token:valid') && part !== 'param-own-device')
    .join(' ');
}

/** Control characters and lone surrogates shown as escapes, so the report stays readable text. */
function printable(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const odd = c < 0x20 || c === 0x7f || (c >= 0xd800 && c <= 0xdfff);
    out += odd ? `\\u${c.toString(16).padStart(4, '0')}` : text[i];
  }
  return out;
}

/** Group failures by endpoint, status, problem and body shape; one example each, largest groups first. */
export function report(failures: readonly Failure[], limit = 60): string {
  const groups = new Map<string, { count: number; inputs: Set<string>; example: Failure }>();
  for (const f of failures) {
    const parsed = parse(f.body) as { errcode?: unknown; code?: unknown } | undefined;
    const shape =
      typeof parsed?.errcode === 'string'
        ? parsed.errcode
        : typeof parsed?.code === 'string'
          ? `code ${parsed.code}`
          : f.body.replace(/[0-9]+/g, 'N').slice(0, 60);
    // v3 and r0 are one endpoint: group them.
    const pattern = f.request.pattern.replace(/^\/_matrix\/client\/(v3|r0)\//, '/_matrix/client/{v3,r0}/');
    const key = `${f.request.method} ${pattern} → ${f.status ?? 'no reply'} ${f.problem}: ${shape}`;
    const g = groups.get(key) ?? { count: 0, inputs: new Set<string>(), example: f };
    g.count++;
    g.inputs.add(inputClass(f.request.label));
    groups.set(key, g);
  }
  const sorted = [...groups.entries()].sort((a, b) => b[1].count - a[1].count);
  const lines = sorted.slice(0, limit).map(([key, g]) => {
    const inputs = [...g.inputs].slice(0, 3).map((s) => s.slice(0, 160));
    return [
      `  [${g.count}×] ${printable(key)}`,
      `      body: ${printable(g.example.body.slice(0, 200))}`,
      `      e.g.: ${g.example.request.method} ${g.example.request.path.slice(0, 120)}`,
      ...inputs.map((s) => `      input: ${printable(s)}`),
    ].join('\n');
  });
  if (sorted.length > limit) lines.push(`  … and ${sorted.length - limit} more groups`);
  return lines.join('\n');
}
