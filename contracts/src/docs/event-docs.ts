import { z } from 'zod';
import { envelopeSchema } from '../envelope.schema';
import { EventDefinition, EventRegistry } from '../registry';

/**
 * The generated documentation of the event contract: a JSON Schema per event type (the
 * CloudEvents envelope with that type's payload) and one AsyncAPI 3 document for integrators.
 * Pure: returns file names and contents; scripts/contracts.ts writes or checks them.
 */

export const EVENT_DOCS_DIR = 'docs/events';

type JsonObject = Record<string, unknown>;

function jsonSchema(schema: z.ZodType): JsonObject {
  return z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    unrepresentable: 'any',
    io: 'output',
  }) as JsonObject;
}

/** The envelope's JSON Schema with `data` replaced by the payload schema of one event type. */
export function eventJsonSchema(definition: EventDefinition): JsonObject {
  const envelope = jsonSchema(envelopeSchema);
  const { $schema, ...payload } = jsonSchema(definition.data);
  const properties = envelope.properties as JsonObject;
  return {
    $schema,
    $id: `https://palisade.dev/schemas/events/${definition.type}.json`,
    title: definition.type,
    description: definition.description,
    ...envelope,
    properties: { ...properties, type: { const: definition.type }, data: payload },
  };
}

function channelId(definition: EventDefinition): string {
  return `${definition.context}.${definition.entity}.${definition.verb}`;
}

function messageId(definition: EventDefinition): string {
  return `${definition.context}.${definition.entity}.${definition.verb}.v${definition.version}`;
}

/** The AsyncAPI 3.0 document: one channel per event subject, one message per event type and version. */
export function asyncApiDocument(registry: EventRegistry): JsonObject {
  const definitions = registry.list();
  const channels: JsonObject = {};
  const operations: JsonObject = {};
  const messages: JsonObject = {};
  for (const definition of definitions) {
    const channel = channelId(definition);
    const message = messageId(definition);
    messages[message] = {
      name: definition.type,
      title: definition.type,
      summary: definition.description,
      contentType: 'application/cloudevents+json',
      headers: {
        type: 'object',
        properties: {
          'Nats-Msg-Id': { type: 'string', description: 'the event id (UUIDv7); JetStream drops repeats' },
          'Palisade-Type': { type: 'string', const: definition.type },
          'Palisade-Sequence': { type: 'string', description: "the producer's gap-free sequence" },
          traceparent: { type: 'string', description: 'W3C trace context' },
        },
      },
      payload: {
        schemaFormat: 'application/schema+json;version=draft-2020-12',
        schema: { $ref: `./${definition.type}.schema.json` },
      },
    };
    const existing = channels[channel] as { messages: JsonObject } | undefined;
    if (existing) {
      existing.messages[message] = { $ref: `#/components/messages/${message}` };
      continue;
    }
    channels[channel] = {
      address: `evt.${definition.context}.{orgid}.${definition.entity}.${definition.verb}`,
      description: `${definition.entity}.${definition.verb} events of the ${definition.context} context. Stream EVT_${definition.context.replace(/-/g, '_').toUpperCase()}.`,
      parameters: { orgid: { description: 'the owning organization id, or "system"' } },
      messages: { [message]: { $ref: `#/components/messages/${message}` } },
    };
    operations[`publish.${channel}`] = {
      action: 'send',
      title: `Palisade publishes ${definition.entity}.${definition.verb}`,
      channel: { $ref: `#/channels/${channel}` },
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Palisade events',
      version: '1',
      description:
        'Every state change in Palisade is a CloudEvents 1.0 event on NATS JetStream, subject evt.<context>.<orgid>.<entity>.<verb>, ' +
        'one stream per context (EVT_<CONTEXT>). Integrators can be limited by NATS permissions to their organization: evt.*.<orgid>.>. ' +
        'A version bump adds a new type; old consumers keep working.',
    },
    defaultContentType: 'application/cloudevents+json',
    servers: { nats: { host: 'localhost:4222', protocol: 'nats', description: 'NATS with JetStream' } },
    channels,
    operations,
    components: { messages },
  };
}

/** Every generated file: name (relative to docs/events) → content. */
export function eventDocFiles(registry: EventRegistry): Map<string, string> {
  const files = new Map<string, string>();
  const write = (name: string, value: unknown) => files.set(name, `${JSON.stringify(value, null, 2)}\n`);
  write('envelope.schema.json', {
    $id: 'https://palisade.dev/schemas/events/envelope.json',
    ...jsonSchema(envelopeSchema),
  });
  for (const definition of registry.list())
    write(`${definition.type}.schema.json`, eventJsonSchema(definition));
  write('asyncapi.json', asyncApiDocument(registry));
  return files;
}
