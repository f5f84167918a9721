import fc from 'fast-check';
import {
  CONTEXTS,
  eventSubject,
  eventType,
  NAME_TOKEN,
  ORG_TOKEN,
  parseEventSubject,
  parseEventType,
  schemaName,
  streamName,
} from '../src';

const nameToken = fc.stringMatching(/^[a-z][a-z0-9_-]{0,20}$/);
const orgToken = fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/);

describe('naming', () => {
  it('gives every context a stream and a schema', () => {
    expect(CONTEXTS.map(streamName)).toEqual([
      'EVT_IDENTITY',
      'EVT_AUTHORIZATION',
      'EVT_PLACEMENT',
      'EVT_SECRETS',
      'EVT_DEVLINK',
      'EVT_RUNTIME_SCHEDULER',
      'EVT_AUDIT',
    ]);
    expect(schemaName('runtime-scheduler')).toBe('runtime_scheduler');
  });

  it('round-trips subjects and types', () => {
    fc.assert(
      fc.property(
        nameToken,
        orgToken,
        nameToken,
        nameToken,
        fc.integer({ min: 1, max: 99 }),
        (context, org, entity, verb, version) => {
          expect(parseEventSubject(eventSubject(context, org, entity, verb))).toEqual({
            context,
            orgId: org,
            entity,
            verb,
          });
          expect(parseEventType(eventType(context, entity, verb, version))).toEqual({
            context,
            entity,
            verb,
            version,
          });
        },
      ),
    );
  });

  it('refuses tokens that would change the meaning of a subject', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (token) => {
        fc.pre(!ORG_TOKEN.test(token));
        expect(() => eventSubject('identity', token, 'user', 'registered')).toThrow(
          /invalid organization id/,
        );
      }),
    );
    for (const hostile of ['a.b', '*', '>', 'a b', '', 'x\n']) {
      expect(() => eventSubject('identity', hostile, 'user', 'registered')).toThrow();
      expect(() => eventSubject(hostile, 'org', 'user', 'registered')).toThrow();
    }
  });

  it('parses only well-formed subjects', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (subject) => {
        const parsed = parseEventSubject(subject);
        if (parsed) {
          expect(NAME_TOKEN.test(parsed.context) && ORG_TOKEN.test(parsed.orgId)).toBe(true);
          expect(eventSubject(parsed.context, parsed.orgId, parsed.entity, parsed.verb)).toBe(subject);
        }
      }),
    );
    expect(parseEventSubject('evt.identity.org.user')).toBeUndefined();
    expect(parseEventSubject('evt.identity.o*g.user.registered')).toBeUndefined();
  });
});
