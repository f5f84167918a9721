import { z } from 'zod';
import {
  defineEvent,
  EventEnvelope,
  EventRegistry,
  InvalidEventPayloadError,
  UnknownEventTypeError,
} from '../src';

const v1 = defineEvent({
  context: 'sample',
  entity: 'widget',
  verb: 'renamed',
  description: 'a widget got a new name',
  data: z.object({ widgetId: z.string(), name: z.string() }),
});
const v2 = defineEvent({
  context: 'sample',
  entity: 'widget',
  verb: 'renamed',
  version: 2,
  description: 'a widget got a new name, with the previous one',
  data: z.object({ widgetId: z.string(), name: z.string(), previousName: z.string().nullable() }),
  upcastFrom: {
    definition: v1,
    upcast: (old) => ({ ...(old as { widgetId: string; name: string }), previousName: null }),
  },
});

function envelope(type: string, data: unknown): EventEnvelope {
  return {
    specversion: '1.0',
    id: '01936f3a-7b1c-7d2e-8f00-000000000001',
    source: '/palisade/sample',
    type,
    subject: 'widget/1',
    time: new Date(0).toISOString(),
    datacontenttype: 'application/json',
    data,
    orgid: 'org1',
    actor: 'system',
    correlationid: 'c1',
    sequence: 1,
  };
}

describe('EventRegistry', () => {
  const registry = new EventRegistry([v1, v2]);

  it('names events by entity and verb, typed by version', () => {
    expect(v1.type).toBe('palisade.sample.widget.renamed.v1');
    expect(v2.name).toBe('widget.renamed');
    expect(v2.subject('org1')).toBe('evt.sample.org1.widget.renamed');
    expect(registry.latest(v1.type)).toBe(v2);
  });

  it('upcasts an old event for a consumer of the new version', () => {
    const decoded = registry.decode(envelope(v1.type, { widgetId: 'w', name: 'n' }), v2);
    expect(decoded.type).toBe(v2.type);
    expect(decoded.data).toEqual({ widgetId: 'w', name: 'n', previousName: null });
  });

  it('lets an old consumer read a newer, additive version', () => {
    const decoded = registry.decode(envelope(v2.type, { widgetId: 'w', name: 'n', previousName: 'o' }), v1);
    expect(decoded.data).toEqual({ widgetId: 'w', name: 'n' });
  });

  it('rejects payloads that break the contract, naming the field but not echoing its value', () => {
    const secret = 'hunter2-canary';
    let caught: unknown;
    try {
      registry.parseData(envelope(v1.type, { widgetId: 42, name: secret, extra: secret }));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidEventPayloadError);
    expect((caught as Error).message).toMatch(/widgetId/);
    expect((caught as Error).message).not.toContain(secret);
    expect(() => registry.parseData(envelope('palisade.sample.widget.exploded.v1', {}))).toThrow(
      UnknownEventTypeError,
    );
  });

  it('refuses two definitions of one type and upcasters that skip a version', () => {
    const twin = defineEvent({
      context: 'sample',
      entity: 'widget',
      verb: 'renamed',
      description: 'x',
      data: z.object({}),
    });
    expect(() => new EventRegistry([v1, twin])).toThrow(/defined twice/);
    expect(() =>
      defineEvent({
        context: 'sample',
        entity: 'widget',
        verb: 'renamed',
        version: 3,
        description: 'x',
        data: z.object({}),
        upcastFrom: { definition: v1, upcast: () => ({}) },
      }),
    ).toThrow(/previous version/);
  });
});
