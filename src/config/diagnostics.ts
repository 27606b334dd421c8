/**
 * Operator-facing config diagnostics: which keys Tessera ignores (a Synapse `homeserver.yaml`
 * carries many it does not need), and a one-line description of an invalid value that names
 * its key. The schema is walked as the JSON Schema TypeBox emits (`properties`, `items`, `anyOf`).
 */

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  additionalProperties?: unknown;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  const?: unknown;
  type?: string;
  pattern?: string;
}

/** A validation error as TypeBox's `Value.Errors` reports it. */
export interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message: string;
}

/** `/listeners/0/port` → `listeners[0].port`: the way an operator reads a YAML path. */
export function keyPath(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((seg) => seg.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((out, seg) => (/^[0-9]+$/.test(seg) ? `${out}[${seg}]` : out === '' ? seg : `${out}.${seg}`), '');
}

/** Dotted paths of every key in `value` that `schema` does not declare, depth first. */
export function unknownKeys(schema: unknown, value: unknown, path = ''): string[] {
  const node = schema as SchemaNode;
  if (Array.isArray(value) && node.items !== undefined) {
    return value.flatMap((item, i) => unknownKeys(node.items, item, `${path}[${i}]`));
  }
  if (typeof value !== 'object' || value === null || node.properties === undefined) return [];
  // An object that allows extra keys (listener `resources`) is passed through as is.
  if (node.additionalProperties === true) return [];
  const out: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const childPath = path === '' ? key : `${path}.${key}`;
    const childSchema = node.properties[key];
    if (childSchema === undefined) out.push(childPath);
    else out.push(...unknownKeys(childSchema, child, childPath));
  }
  return out;
}

/**
 * One line for the first invalid value: `listeners[0].port: must be integer`. Unions get a
 * readable summary (the allowed values, or the duration syntax) instead of a bare "anyOf".
 */
export function describeSchemaError(errors: readonly SchemaError[]): string {
  const first = errors.find((e) => e.keyword !== 'anyOf') ?? errors[0];
  if (first === undefined) return 'invalid config';
  const atSamePath = errors.filter((e) => e.instancePath === first.instancePath);
  let key = keyPath(first.instancePath);
  let problem = first.message;
  if (first.keyword === 'required') {
    const missing = first.params.requiredProperties ?? first.params.missingProperty;
    const names = (Array.isArray(missing) ? missing : [missing]).map(String);
    key = names.map((n) => (key === '' ? n : `${key}.${n}`)).join(', ');
    problem = 'is required';
  } else {
    const allowed = atSamePath.filter((e) => e.keyword === 'const').map((e) => JSON.stringify(e.params.allowedValue));
    const isDuration = atSamePath.some((e) => e.keyword === 'pattern' && String(e.params.pattern).includes('ms|s|m'));
    if (isDuration) {
      problem = 'must be a duration: an integer of milliseconds, or a string such as "30s", "5m", "2h", "7d"';
    } else if (allowed.length > 0) {
      problem = `must be ${allowed.length === 1 ? allowed[0] : `one of ${allowed.join(', ')}`}`;
    }
  }
  return `invalid config value at ${key || '(top level)'}: ${problem}`;
}
