import fc from 'fast-check';
import { z } from 'zod';
import { InvalidInputError, parseInput, problemOf, validate } from '../src';

const member = z
  .object({
    userId: z.string().regex(/^[a-z0-9-]{3,40}$/),
    role: z.enum(['owner', 'admin', 'member', 'reviewer']),
    name: z.string().trim().min(1).max(120),
    windowMinutes: z.int().min(5).max(480),
    tags: z.array(z.string()).max(3).optional(),
  })
  .strict();

function refusal(run: () => unknown): InvalidInputError {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  throw new Error('expected the input to be refused');
}

describe('parseInput: one validation for bodies, queries and path parameters', () => {
  it('returns the parsed value of good input', () => {
    const value = { userId: 'bob-1', role: 'member', name: ' Bob ', windowMinutes: 30 };
    expect(parseInput(member, value, { in: 'body' })).toEqual({ ...value, name: 'Bob' });
  });

  it('names every failing field with a pointer and what is allowed there', () => {
    const error = refusal(() =>
      parseInput(
        member,
        { userId: 'B', role: 'king', name: '', windowMinutes: 1.5, tags: ['a', 'b', 'c', 'd'], x: 1 },
        { in: 'body' },
      ),
    );
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_request');
    expect(error.errors).toEqual([
      { in: 'body', pointer: '#/userId', detail: 'must match /^[a-z0-9-]{3,40}$/' },
      { in: 'body', pointer: '#/role', detail: 'must be one of: owner, admin, member, reviewer' },
      { in: 'body', pointer: '#/name', detail: 'must not be empty' },
      { in: 'body', pointer: '#/windowMinutes', detail: 'must be a whole number' },
      { in: 'body', pointer: '#/tags', detail: 'must have at most 3 items' },
      {
        in: 'body',
        pointer: '#/x',
        detail: 'is not allowed here (allowed: userId, role, name, windowMinutes, tags)',
      },
    ]);
    expect(error.message).toBe(
      'The request body is not valid: userId must match /^[a-z0-9-]{3,40}$/; role must be one of: owner, admin, member, reviewer; ' +
        'name must not be empty; windowMinutes must be a whole number; tags must have at most 3 items; and 1 more.',
    );
  });

  it('says what is missing, and what a body must be', () => {
    expect(
      refusal(() => parseInput(member, {}, { in: 'body' })).errors.map((e) => [e.pointer, e.detail]),
    ).toEqual([
      ['#/userId', 'is required'],
      ['#/role', 'is required and must be one of: owner, admin, member, reviewer'],
      ['#/name', 'is required'],
      ['#/windowMinutes', 'is required'],
    ]);
    expect(refusal(() => parseInput(member, [1], { in: 'body' })).message).toBe(
      'The request body is not valid: it must be a JSON object.',
    );
  });

  it('points at a path parameter or query parameter by name, with the code asked for', () => {
    const error = refusal(() => parseInput(z.uuid(), 'nope', { in: 'path', name: 'elevationId' }));
    expect(error.errors).toEqual([{ in: 'path', pointer: '#/elevationId', detail: 'must be a UUID' }]);
    const query = refusal(() =>
      parseInput(
        z.object({ limit: z.string() }).strict(),
        { limit: ['1', '2'] },
        { in: 'query', code: 'invalid_query' },
      ),
    );
    expect(query.code).toBe('invalid_query');
    expect(query.errors).toEqual([{ in: 'query', pointer: '#/limit', detail: 'must be given once' }]);
  });

  it("keeps a schema's own message and escapes pointers (RFC 6901)", () => {
    const schema = z.object({ 'a/b~c': z.string().regex(/^x$/, { error: 'must be x, the only letter' }) });
    expect(refusal(() => parseInput(schema, { 'a/b~c': 'y' }, { in: 'body' })).errors).toEqual([
      { in: 'body', pointer: '#/a~1b~0c', detail: 'must be x, the only letter' },
    ]);
  });

  it('reports the closest branch of a union', () => {
    const check = z
      .object({ action: z.string(), resource: z.object({ orgId: z.string() }).strict() })
      .strict();
    const body = z.union([check, z.object({ checks: z.array(check).min(1) }).strict()]);
    const error = refusal(() =>
      parseInput(body, { checks: [{ action: 'x', resource: { orgId: 1 } }] }, { in: 'body' }),
    );
    expect(error.errors).toEqual([
      { in: 'body', pointer: '#/checks/0/resource/orgId', detail: 'must be a string' },
    ]);
  });

  it('becomes the same problem body on every service (RFC 9457 with the v1 error member)', () => {
    const error = refusal(() => parseInput(member, { role: 'king' }, { in: 'body', code: 'invalid_member' }));
    const body = problemOf(error);
    expect(body).toMatchObject({
      type: 'urn:palisade:error:invalid_member',
      title: 'Bad Request',
      status: 400,
      code: 'invalid_member',
      detail: error.message,
      error: { code: 'invalid_member', message: error.message },
    });
    expect(body.errors).toEqual(error.errors);
  });

  it('never repeats the input in what it answers, and reports at most 20 fields (property)', () => {
    const secret = fc.string({ minLength: 12, maxLength: 40 }).map((s) => `S3cr3t-${s}`);
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 12 }),
          fc.oneof(secret, fc.array(secret, { maxLength: 3 }), fc.integer()),
          {
            maxKeys: 40,
          },
        ),
        (input) => {
          let answer: string;
          try {
            parseInput(member, input, { in: 'body' });
            return;
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidInputError);
            const refused = error as InvalidInputError;
            expect(refused.errors.length).toBeGreaterThan(0);
            expect(refused.errors.length).toBeLessThanOrEqual(20);
            answer =
              JSON.stringify(problemOf(refused).detail) + JSON.stringify(refused.errors.map((e) => e.detail));
          }
          for (const value of Object.values(input).flat())
            if (typeof value === 'string') expect(answer).not.toContain(value);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('works as a Nest pipe: @Body, @Query and @Param(name)', () => {
    const pipe = validate(z.string().min(3), { code: 'invalid_id' });
    expect(pipe.transform('abc', { type: 'param', data: 'id' })).toBe('abc');
    const error = refusal(() => pipe.transform('a', { type: 'param', data: 'id' }));
    expect([error.code, error.errors]).toEqual([
      'invalid_id',
      [{ in: 'path', pointer: '#/id', detail: 'must be at least 3 characters' }],
    ]);
  });
});
