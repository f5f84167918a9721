import type { ArgumentMetadata, PipeTransform } from '@nestjs/common';
import { RuleError } from '@palisade/domain';
import { z } from 'zod';
import type { FieldError, FieldLocation } from './problem';

/** At most this many failing fields are reported (a hostile body can fail in thousands of places). */
const MAX_FIELD_ERRORS = 20;
/** At most this many are also named in the sentence. */
const MAX_IN_SENTENCE = 5;

/** Bad input: a 400 (by default `invalid_request`) listing every failing field. */
export class InvalidInputError extends RuleError {
  override readonly name = 'InvalidInputError';
  constructor(
    code: string,
    message: string,
    readonly errors: readonly FieldError[],
  ) {
    super(400, code, message);
  }
}

export interface ParseInputOptions {
  /** Where the value came from. */
  in: FieldLocation;
  /** The name of the value inside that part (a path parameter, one query parameter); omitted for a whole body or query. */
  name?: string;
  /** The stable code of the 400 (default `invalid_request`). */
  code?: string;
}

const WHERE: Record<FieldLocation, string> = {
  body: 'The request body',
  query: 'The query',
  path: 'The path',
};

const TYPE_NAMES: Record<string, string> = {
  object: 'a JSON object',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  bigint: 'a whole number',
  boolean: 'true or false',
  date: 'a date',
  null: 'null',
};

const FORMAT_NAMES: Record<string, string> = {
  uuid: 'a UUID',
  email: 'an email address',
  url: 'a URL',
  datetime: 'an ISO 8601 time with a zone, e.g. 2026-11-25T05:00:00Z',
  date: 'an ISO 8601 date, e.g. 2026-11-25',
  base64url: 'base64url text',
};

const plural = (n: number | bigint, one: string, many: string) => `${n} ${Number(n) === 1 ? one : many}`;

/**
 * What is allowed, for each kind of zod issue: a fragment that follows the field's name
 * ("must be one of: read, write"). It never repeats the input, which may be a secret. Messages
 * a schema sets itself (`{ error: '...' }`) take precedence over these.
 */
function allowedFor(location: FieldLocation) {
  return (issue: z.core.$ZodRawIssue): string | undefined => {
    // A repeated query parameter arrives as a list.
    if (
      location === 'query' &&
      issue.code === 'invalid_type' &&
      Array.isArray(issue.input) &&
      issue.expected !== 'array'
    )
      return 'must be given once';
    const allowed = allowedBy(issue);
    if (issue.input === undefined && issue.code !== 'invalid_type' && allowed)
      return `is required and ${allowed}`;
    return allowed;
  };
}

function allowedBy(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      if (issue.expected === 'never') return 'is not allowed here';
      return `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case 'too_small': {
      const n = issue.minimum;
      if (issue.origin === 'string')
        return n === 1 ? 'must not be empty' : `must be at least ${plural(n, 'character', 'characters')}`;
      if (issue.origin === 'array' || issue.origin === 'set')
        return `must have at least ${plural(n, 'item', 'items')}`;
      return issue.inclusive ? `must be at least ${n}` : `must be greater than ${n}`;
    }
    case 'too_big': {
      const n = issue.maximum;
      if (issue.origin === 'string') return `must be at most ${plural(n, 'character', 'characters')}`;
      if (issue.origin === 'array' || issue.origin === 'set')
        return `must have at most ${plural(n, 'item', 'items')}`;
      return issue.inclusive ? `must be at most ${n}` : `must be less than ${n}`;
    }
    case 'invalid_format':
      if (issue.format === 'regex' || !(issue.format in FORMAT_NAMES))
        return issue.pattern ? `must match ${issue.pattern}` : `must be a valid ${issue.format}`;
      return `must be ${FORMAT_NAMES[issue.format]}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of: ${issue.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`;
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'unrecognized_keys': {
      const shape = (issue.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod
        ?.def?.shape;
      const known = shape ? Object.keys(shape) : [];
      return known.length ? `is not allowed here (allowed: ${known.join(', ')})` : 'is not allowed here';
    }
    case 'invalid_union':
      return 'does not match any of the allowed forms';
    case 'invalid_key':
      return 'has a key that is not allowed';
    case 'invalid_element':
      return 'has an element that is not allowed';
    default:
      return undefined;
  }
}

/** RFC 6901: `~` → `~0`, `/` → `~1`. */
function pointerOf(path: readonly PropertyKey[]): string {
  return `#${path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('')}`;
}

/** Every failing field of a zod error, with its pointer (a union reports its closest branch). */
export function fieldErrors(
  error: z.ZodError,
  location: FieldLocation,
  prefix: readonly PropertyKey[] = [],
): FieldError[] {
  const out: FieldError[] = [];
  const visit = (issues: readonly z.core.$ZodIssue[], base: readonly PropertyKey[]) => {
    for (const issue of issues) {
      const path = [...base, ...issue.path];
      if (issue.code === 'invalid_union' && issue.errors.length > 0) {
        // The branch that came closest is the one the caller most likely meant.
        const closest = [...issue.errors].sort((a, b) => a.length - b.length)[0];
        visit(closest, path);
      } else if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys)
          out.push({ in: location, pointer: pointerOf([...path, key]), detail: issue.message });
      } else {
        out.push({ in: location, pointer: pointerOf(path), detail: issue.message });
      }
    }
  };
  visit(error.issues, prefix);
  return out.slice(0, MAX_FIELD_ERRORS);
}

/** "The request body is not valid: role must be one of: owner, admin; name must not be empty." */
export function describeFieldErrors(location: FieldLocation, errors: readonly FieldError[]): string {
  const named = errors.slice(0, MAX_IN_SENTENCE).map((e) => {
    const field = e.pointer.slice(2).split('/').join('.');
    return field ? `${field} ${e.detail}` : `it ${e.detail}`;
  });
  const more = errors.length > MAX_IN_SENTENCE ? `; and ${errors.length - MAX_IN_SENTENCE} more` : '';
  return `${WHERE[location]} is not valid: ${named.join('; ')}${more}.`;
}

/**
 * Validates outside input with a zod schema: the parsed value, or an InvalidInputError (400)
 * naming every failing field, where it is and what is allowed. The one way every service checks
 * bodies, queries and path parameters; through Nest, use the `validate` pipe.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  options: ParseInputOptions,
): z.output<S> {
  const parsed = schema.safeParse(value, { error: allowedFor(options.in) });
  if (parsed.success) return parsed.data;
  const errors = fieldErrors(parsed.error, options.in, options.name === undefined ? [] : [options.name]);
  throw new InvalidInputError(
    options.code ?? 'invalid_request',
    describeFieldErrors(options.in, errors),
    errors,
  );
}

const LOCATIONS: Record<ArgumentMetadata['type'], FieldLocation> = {
  body: 'body',
  query: 'query',
  param: 'path',
  custom: 'body',
};

/**
 * The validation pipe: `@Body(validate(schema))`, `@Query(validate(schema, { code: 'invalid_query' }))`,
 * `@Param('orgId', validate(orgIdSchema))`. Bad input never reaches the handler.
 */
export function validate<S extends z.ZodType>(schema: S, options: { code?: string } = {}): PipeTransform {
  return {
    transform: (value: unknown, metadata: ArgumentMetadata) =>
      parseInput(schema, value, { in: LOCATIONS[metadata.type], name: metadata.data, code: options.code }),
  };
}
