/**
 * JSON Canonicalization Scheme (RFC 8785): object members sorted by their names' UTF-16 code
 * units, no whitespace, numbers as ECMAScript prints them, strings with JSON's minimal escapes.
 * The same value always gives the same text, so its SHA-256 is a stable checksum.
 */

export class CanonicalJsonError extends Error {
  readonly code = 'not_canonicalizable';
}

/** The canonical JSON text of a JSON value (undefined object members are left out, as JSON does). */
export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  write(value, parts, '$');
  return parts.join('');
}

function write(value: unknown, out: string[], path: string): void {
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isFinite(value))
        throw new CanonicalJsonError(`${path} is ${value}, which JSON cannot hold`);
      // ECMAScript's Number-to-String is the serialization RFC 8785 prescribes (-0 becomes 0).
      out.push(JSON.stringify(value));
      return;
    case 'string':
      out.push(quote(value, path));
      return;
    case 'object':
      if (Array.isArray(value)) {
        out.push('[');
        value.forEach((item, i) => {
          if (i) out.push(',');
          // JSON turns holes and undefined in arrays into null.
          write(item === undefined ? null : item, out, `${path}[${i}]`);
        });
        out.push(']');
        return;
      }
      if (value instanceof Date) {
        out.push(quote(value.toISOString(), path));
        return;
      }
      writeObject(value as Record<string, unknown>, out, path);
      return;
    default:
      throw new CanonicalJsonError(`${path} is a ${typeof value}, which JSON cannot hold`);
  }
}

function writeObject(object: Record<string, unknown>, out: string[], path: string): void {
  // Default sort compares UTF-16 code units, which is RFC 8785's order.
  const keys = Object.keys(object)
    .filter((key) => object[key] !== undefined)
    .sort();
  out.push('{');
  keys.forEach((key, i) => {
    if (i) out.push(',');
    out.push(quote(key, path), ':');
    write(object[key], out, `${path}.${key}`);
  });
  out.push('}');
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function quote(text: string, path: string): string {
  if (LONE_SURROGATE.test(text))
    throw new CanonicalJsonError(`${path} holds a lone UTF-16 surrogate, which is not Unicode text`);
  // JSON.stringify escapes exactly ", \, and control characters (\b \t \n \f \r, others as \u00xx).
  return JSON.stringify(text);
}
