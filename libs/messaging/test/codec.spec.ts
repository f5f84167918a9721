import fc from 'fast-check';
import { z } from 'zod';
import { defineEvent, EventEnvelope, EventRegistry, MAX_EVENT_BYTES } from '@palisade/contracts';
import { DecodeError, decodeEnvelope, encodeEnvelope } from '../src/codec';

const noted = defineEvent({
  context: 'sample',
  entity: 'note',
  verb: 'added',
  description: 'a note was added',
  data: z.object({ noteId: z.uuid(), text: z.string().max(100) }).strict(),
});
const registry = new EventRegistry([noted]);

function valid(overrides: Partial<EventEnvelope> = {}): EventEnvelope {
  return {
    specversion: '1.0',
    id: '01936f3a-7b1c-7d2e-8f00-000000000001',
    source: '/palisade/sample',
    type: noted.type,
    subject: 'note/1',
    time: '2026-11-23T10:00:00.000Z',
    datacontenttype: 'application/json',
    data: { noteId: '7d444840-9dc0-11d1-b245-5ffdce74fad2', text: 'hello' },
    orgid: 'org-1',
    actor: 'user:alice',
    correlationid: 'c-1',
    sequence: 7,
    ...overrides,
  };
}
const subject = noted.subject('org-1');
const bytes = (value: unknown) =>
  new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

/** Decoding either yields a valid envelope or throws a DecodeError: nothing else, ever. */
function decodeOutcome(s: string, data: Uint8Array): string {
  try {
    decodeEnvelope(s, data, registry, { requireKnownType: true });
    return 'ok';
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    return error.code;
  }
}

describe('decodeEnvelope', () => {
  it('accepts a valid event', () => {
    expect(decodeEnvelope(subject, encodeEnvelope(valid()), registry).data).toEqual(valid().data);
  });

  it('rejects each kind of damage with its own code', () => {
    expect(decodeOutcome(subject, bytes('{not json'))).toBe('not_json');
    expect(decodeOutcome(subject, new Uint8Array([0xff, 0xfe, 0x7b]))).toBe('not_json');
    expect(decodeOutcome(subject, bytes({ ...valid(), specversion: '0.3' }))).toBe('invalid_envelope');
    expect(decodeOutcome(subject, bytes({ ...valid(), id: 'not-a-uuid' }))).toBe('invalid_envelope');
    expect(decodeOutcome(subject, bytes({ ...valid(), sequence: 0 }))).toBe('invalid_envelope');
    expect(decodeOutcome(noted.subject('org-2'), bytes(valid()))).toBe('subject_mismatch');
    expect(decodeOutcome('evt.sample.org-1.note.deleted', bytes(valid()))).toBe('subject_mismatch');
    expect(decodeOutcome(subject, bytes({ ...valid(), source: '/palisade/identity' }))).toBe(
      'subject_mismatch',
    );
    expect(decodeOutcome(subject, bytes(valid({ data: { noteId: 'x', text: 'hello' } })))).toBe(
      'invalid_event_payload',
    );
    expect(decodeOutcome(subject, bytes(valid({ data: { ...(valid().data as object), admin: true } })))).toBe(
      'invalid_event_payload',
    );
    expect(
      decodeOutcome(
        'evt.sample.org-1.note.shredded',
        bytes(valid({ type: 'palisade.sample.note.shredded.v1' })),
      ),
    ).toBe('unknown_event_type');
    expect(decodeOutcome(subject, new Uint8Array(MAX_EVENT_BYTES + 1))).toBe('too_large');
  });

  it('never throws anything but a DecodeError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.string({ maxLength: 80 }), (data, s) => {
        expect([
          'ok',
          'not_json',
          'invalid_envelope',
          'subject_mismatch',
          'unknown_event_type',
          'invalid_event_payload',
        ]).toContain(decodeOutcome(s, data));
      }),
    );
  });

  it('never accepts a mutated envelope that breaks the contract, and never crashes on one', () => {
    const keys = Object.keys(valid()) as (keyof EventEnvelope)[];
    fc.assert(
      fc.property(
        fc.constantFrom(...keys),
        fc.anything({ withNullPrototype: true, withBigInt: false }),
        (key, value) => {
          const mutated = { ...valid(), [key]: value } as Record<string, unknown>;
          const outcome = decodeOutcome(subject, bytes(mutated));
          if (outcome === 'ok') {
            // Whatever got through still satisfies the envelope and payload contracts.
            const decoded = decodeEnvelope(subject, bytes(mutated), registry);
            expect(decoded.type).toBe(noted.type);
            expect(noted.data.safeParse(decoded.data).success).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
