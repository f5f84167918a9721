/** What redacted values are replaced with in logs. */
export const REDACTED = '[redacted]';

/**
 * Keys whose values never reach a log line, whatever their type (objects under `secret` or
 * `secrets` included). Matched exactly (pino paths are case-sensitive), so common spellings are listed.
 */
export const REDACTED_KEYS: readonly string[] = [
  'password',
  'passwd',
  'pass',
  'secret',
  'secrets',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'access_token',
  'refresh_token',
  'id_token',
  'apiKey',
  'api_key',
  'authorization',
  'Authorization',
  'proxy-authorization',
  'cookie',
  'Cookie',
  'set-cookie',
  'Set-Cookie',
  'client_secret',
  'clientSecret',
  'privateKey',
  'private_key',
  'x-api-key',
  'jwt',
];

/**
 * How deep key redaction reaches: a redacted key is found at the top of the log object and
 * under up to this many levels of parents (`a.b.c.d.password`). Deeper keys are not censored
 * by path; their string values are still caught by the line filter (`redactString`) when the
 * key ends in password, secret, token, api key or private key. Log shallow objects.
 */
export const REDACT_MAX_PARENTS = 4;

/** Explicit header paths (also covered by the wildcards; listed so the intent is searchable). */
const HEADER_PATHS = ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'];

function pathSegment(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `["${key}"]`;
}

/** The pino `redact.paths`: every REDACTED_KEYS entry at depth 0..REDACT_MAX_PARENTS, plus the header paths. */
export function redactPaths(
  keys: readonly string[] = REDACTED_KEYS,
  maxParents = REDACT_MAX_PARENTS,
): string[] {
  const paths: string[] = [...HEADER_PATHS];
  for (const key of keys) {
    for (let parents = 0; parents <= maxParents; parents++) {
      const prefix = Array.from({ length: parents }, () => '*').join('.');
      const segment = pathSegment(key);
      paths.push(prefix === '' ? segment.replace(/^\./, '') : `${prefix}${segment}`);
    }
  }
  return paths;
}

// Patterns of secrets in free text. Character classes exclude `"` and `\` so the same patterns
// can run over a serialized JSON line without breaking its escaping.
const SECRET_KEY_NAME = String.raw`[\w.-]*(?:password|passwd|secret|token|api[_-]?key|private[_-]?key)|authorization|cookie|set-cookie`;
const PATTERNS: readonly [RegExp, string | ((match: string) => string)][] = [
  // Authorization header values: "Bearer <token>", "Basic <credentials>".
  [/\b(Bearer|Basic)(\s+)[A-Za-z0-9\-._~+/]+=*/gi, `$1$2${REDACTED}`],
  // JWTs / JWS: three base64url segments, the first a JSON header ("eyJ").
  [/\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, REDACTED],
  // Other three-segment base64url tokens with long, mixed-case segments (signed links, opaque
  // tokens); all-lowercase matches are host names, not tokens.
  [
    /\b[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\b/g,
    (match: string) => (/[A-Z]/.test(match) && /[a-z]/.test(match) ? REDACTED : match),
  ],
  // Passwords in URLs: scheme://user:password@host.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/"\\]*:)[^\s@/"\\]+@/gi, `$1${REDACTED}@`],
  // key=value pairs in query strings and messages.
  [new RegExp(String.raw`\b(${SECRET_KEY_NAME})=[^\s&;,"'\\]+`, 'gi'), `$1=${REDACTED}`],
  // "key": "value" pairs in JSON text (escaped quotes inside the value are handled).
  [new RegExp(String.raw`("(?:${SECRET_KEY_NAME})"\s*:\s*")(?:[^"\\]|\\.)*"`, 'gi'), `$1${REDACTED}"`],
  // The same pairs in JSON text that was itself put in a JSON string (a body inside a message).
  [new RegExp(String.raw`(\\"(?:${SECRET_KEY_NAME})\\"\s*:\s*\\")[^"\\]*\\"`, 'gi'), `$1${REDACTED}\\"`],
];

/**
 * Masks secrets inside free text: bearer/basic credentials, JWT-looking strings, URL passwords,
 * `password=...`-style pairs and `"token": "..."`-style JSON pairs. Safe to run over a JSON log line.
 */
export function redactString(text: string): string {
  let result = text;
  for (const [pattern, replacement] of PATTERNS) {
    result =
      typeof replacement === 'string'
        ? result.replace(pattern, replacement)
        : result.replace(pattern, replacement);
  }
  return result;
}

const KEY_SET = new Set(REDACTED_KEYS);

/**
 * A copy of a value with REDACTED_KEYS censored and strings passed through `redactString`,
 * down to `maxDepth` levels (for values pino's paths do not see, e.g. printf-style arguments).
 */
export function redactValue(value: unknown, maxDepth = 8): unknown {
  const seen = new WeakSet<object>();
  const visit = (current: unknown, depth: number): unknown => {
    if (typeof current === 'string') return redactString(current);
    if (current === null || typeof current !== 'object') return current;
    if (depth >= maxDepth || seen.has(current)) return '[truncated]';
    seen.add(current);
    if (current instanceof Error) {
      return {
        type: current.name,
        message: redactString(current.message),
        stack: current.stack === undefined ? undefined : redactString(current.stack),
      };
    }
    if (Array.isArray(current)) return current.map((item) => visit(item, depth + 1));
    const copy: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(current))
      copy[key] = KEY_SET.has(key) ? REDACTED : visit(inner, depth + 1);
    return copy;
  };
  return visit(value, 0);
}
