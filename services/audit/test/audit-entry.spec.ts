import { envelopeSchema, EventEnvelope } from '@palisade/contracts';
import fc from 'fast-check';
import { canonicalJson, columnMismatch, EntryColumns, entryColumns } from '../src/domain';
import { sampleEnvelope } from './audit.fixture';

/**
 * columnMismatch reads the envelope's members by their place in the canonical text. These tests
 * hold it to the check it replaced (JSON.parse, then compare) on envelopes whose data is built to
 * mislead it, and hold the envelope schema to the layout it relies on.
 */

/** The check columnMismatch replaced: parse the text, compare each member. */
function parsedMismatch(columns: EntryColumns, canonical: string): string | undefined {
  const parsed = JSON.parse(canonical) as Record<string, unknown>;
  if (parsed.actor !== columns.actor) return 'actor';
  if (parsed.type !== columns.type) return 'type';
  if (typeof parsed.time !== 'string' || Date.parse(parsed.time) !== Date.parse(columns.time)) return 'time';
  if (parsed.subject !== columns.subject) return 'subject';
  if (parsed.orgid !== columns.orgId) return 'organization';
  if (parsed.id !== columns.eventId) return 'event id';
  return undefined;
}

/** A JavaScript string as its UTF-8 bytes, one character per byte (how rows are read in binary). */
const bytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');
const asBytes = (columns: EntryColumns): EntryColumns => ({
  eventId: bytes(columns.eventId),
  time: bytes(columns.time),
  type: bytes(columns.type),
  orgId: bytes(columns.orgId),
  actor: bytes(columns.actor),
  subject: bytes(columns.subject),
});

/** The columns as Postgres gives them back: the time re-rendered in UTC with milliseconds. */
function storedColumns(envelope: EventEnvelope): EntryColumns {
  const columns = entryColumns(envelope);
  return { ...columns, time: new Date(Date.parse(columns.time)).toISOString() };
}

// Text made to mislead a reader that looks for members by name: quotes, backslashes, controls,
// non-ASCII, and fragments of the envelope's own member syntax.
const tricky = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom(
    ',"type":"palisade.x.y.z.v1"',
    '","orgid":"org-9',
    '\\",\\"id\\":\\"',
    '"}',
    '\u0000\n\u001f',
    'é€😀',
    ',"time":"2020-01-01T00:00:00.000Z"',
  ),
);
const memberNames = fc.constantFrom('actor', 'id', 'orgid', 'subject', 'time', 'type', 'data', 'sequence');
/** Data that repeats the envelope's member names, nested at any depth, with tricky values. */
const misleadingData = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    tricky,
    fc.jsonValue({ maxDepth: 2 }),
    fc.dictionary(fc.oneof(memberNames, tricky), tie('value'), { maxKeys: 4 }),
    fc.array(tie('value'), { maxLength: 3 }),
  ),
})).value;

const envelopes = fc
  .record({
    n: fc.nat(),
    data: misleadingData,
    subject: fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
      tricky.filter((s) => s.length > 0),
    ),
    time: fc.oneof(
      fc
        .date({ min: new Date(0), max: new Date(Date.UTC(9000, 0)), noInvalidDate: true })
        .map((d) => d.toISOString()),
      fc.constantFrom('2026-11-30T12:00:00.123456Z', '2026-11-30T13:00:00.5+01:00', '2026-11-30T12:00:00Z'),
    ),
    traceparent: fc.option(fc.constant('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'), {
      nil: undefined,
    }),
    causationid: fc.option(fc.constant('cause-1'), { nil: undefined }),
  })
  .map(({ n, data, subject, time, traceparent, causationid }) =>
    sampleEnvelope(n + 1, { data, subject, time, traceparent, causationid }),
  );

const COLUMNS = ['eventId', 'time', 'type', 'orgId', 'actor', 'subject'] as const;
const NAMES: Record<(typeof COLUMNS)[number], string> = {
  eventId: 'event id',
  time: 'time',
  type: 'type',
  orgId: 'organization',
  actor: 'actor',
  subject: 'subject',
};

describe('columnMismatch: query columns against the canonical text, read by position', () => {
  it('finds nothing wrong with the columns of any envelope, as text and as UTF-8 bytes (property)', () => {
    fc.assert(
      fc.property(envelopes, (envelope) => {
        const canonical = canonicalJson(envelope);
        const columns = storedColumns(envelope);
        expect(columnMismatch(columns, canonical)).toBeUndefined();
        expect(columnMismatch(asBytes(columns), bytes(canonical))).toBeUndefined();
        expect(columnMismatch(entryColumns(envelope), canonical)).toBeUndefined();
      }),
      { numRuns: 400 },
    );
  });

  it('names the column that was changed, whatever the data holds, as the parsing check does (property)', () => {
    // Replacements: tricky text, or a value the data or another member holds (to be found by a
    // reader that looks in the wrong place).
    const decoys = (envelope: EventEnvelope) => [
      JSON.stringify(envelope.data ?? null),
      envelope.subject,
      envelope.orgid,
      'org-9',
      'user:u9',
      'palisade.x.y.z.v1',
    ];
    fc.assert(
      fc.property(
        envelopes,
        fc.constantFrom(...COLUMNS),
        tricky,
        fc.nat(),
        (envelope, column, text, pick) => {
          const canonical = canonicalJson(envelope);
          const columns = storedColumns(envelope);
          const value = columns[column];
          // The value as it is written inside the canonical text (escaped), which equals the
          // text there character for character.
          const escaped = JSON.stringify(value).slice(1, -1);
          const options = [text, ...decoys(envelope), `${value}x`, value.slice(1), escaped, escaped];
          const replacement = options[pick % options.length];
          const changed = { ...columns, [column]: replacement };
          const expected = parsedMismatch(changed, canonical);
          // A replacement that says the same (the same instant in other words) is no change.
          if (expected !== undefined) expect(expected).toBe(NAMES[column]);
          expect(columnMismatch(changed, canonical)).toBe(expected);
          expect(columnMismatch(asBytes(changed), bytes(canonical))).toBe(expected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('reports a text that is not an envelope at all rather than throwing', () => {
    const columns = storedColumns(sampleEnvelope(1));
    for (const text of [
      '',
      '{',
      'null',
      '{"actor":',
      '{"actor":"user:u1"}',
      '[1,2]',
      '{"actor":"user:u1","type":',
    ]) {
      expect(typeof columnMismatch(columns, text)).toBe('string');
    }
  });

  it('relies on a layout the envelope schema keeps: actor first, only scalars after data', () => {
    // The canonical text sorts members by name. columnMismatch takes `actor` as the first member
    // and the last `,"<name>":` in the text as the top-level one, which needs every member after
    // `data` to be a string or a number (an object or array there could hold a decoy).
    const shape = envelopeSchema.shape as Record<
      string,
      { def: { type: string; innerType?: { def: { type: string } } } }
    >;
    const names = Object.keys(shape).sort();
    expect(names[0]).toBe('actor');
    const after = names.slice(names.indexOf('data') + 1);
    expect(after).toEqual(expect.arrayContaining(['id', 'orgid', 'subject', 'time', 'type']));
    for (const name of after) {
      const def = shape[name].def;
      const type = def.type === 'optional' ? def.innerType!.def.type : def.type;
      expect({ name, type }).toEqual({ name, type: expect.stringMatching(/^(string|number|literal)$/) });
    }
  });
});
