import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Parser, fromFile } from '@asyncapi/parser';
import { z } from 'zod';
import { createEventRegistry, defineEvent, EventRegistry, eventDocFiles } from '../src';

/** The generated AsyncAPI document, checked by the AsyncAPI project's own parser (files on disk, refs resolved). */
async function validate(registry: EventRegistry) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-asyncapi-'));
  try {
    for (const [name, content] of eventDocFiles(registry)) fs.writeFileSync(path.join(dir, name), content);
    const { document, diagnostics } = await fromFile(new Parser(), path.join(dir, 'asyncapi.json')).parse();
    return {
      document,
      errors: diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join('.')}: ${d.message}`),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('generated event documentation', () => {
  it('is a valid AsyncAPI 3 document for the registered contracts', async () => {
    const { document, errors } = await validate(createEventRegistry());
    expect(errors).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
  });

  it('documents every event type, with versions side by side on one channel', async () => {
    const v1 = defineEvent({
      context: 'sample',
      entity: 'widget',
      verb: 'made',
      description: 'a widget was made',
      data: z.object({ id: z.string() }),
    });
    const v2 = defineEvent({
      context: 'sample',
      entity: 'widget',
      verb: 'made',
      version: 2,
      description: 'a widget was made, with its size',
      data: z.object({ id: z.string(), size: z.int().min(1) }),
      upcastFrom: { definition: v1, upcast: (old) => ({ ...(old as { id: string }), size: 1 }) },
    });
    const other = defineEvent({
      context: 'sample',
      entity: 'widget',
      verb: 'broken',
      description: 'a widget broke',
      data: z.object({ id: z.string() }),
    });
    const registry = new EventRegistry([v1, v2, other]);
    const { document, errors } = await validate(registry);
    expect(errors).toEqual([]);
    expect(
      document!
        .channels()
        .all()
        .map((c) => c.address())
        .sort(),
    ).toEqual(['evt.sample.{orgid}.widget.broken', 'evt.sample.{orgid}.widget.made']);
    expect(
      document!
        .messages()
        .all()
        .map((m) => m.name())
        .sort(),
    ).toEqual([other.type, v1.type, v2.type].sort());
    const files = eventDocFiles(registry);
    const schema = JSON.parse(files.get(`${v2.type}.schema.json`)!);
    expect(schema.properties.type).toEqual({ const: v2.type });
    expect(schema.properties.data.required).toEqual(['id', 'size']);
  });
});
