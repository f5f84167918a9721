import { z } from 'zod';
import { EventEnvelope } from './envelope.schema';
import { eventFilter, eventSubject, eventType, parseEventType } from './naming';

/**
 * Event definitions: one per (context, entity, verb, version), each with the zod schema of
 * its payload. Contexts list their events in `<context>/<context>.events.ts`; the registry
 * collects them for validation, upcasting and the generated JSON Schema / AsyncAPI docs.
 */

export interface EventDefinition<Name extends string = string, Data = unknown> {
  readonly context: string;
  readonly entity: string;
  readonly verb: string;
  readonly version: number;
  /** `<entity>.<verb>`: the domain event's `type`. */
  readonly name: Name;
  /** `palisade.<context>.<entity>.<verb>.v<N>`: the CloudEvents type. */
  readonly type: string;
  readonly description: string;
  readonly data: z.ZodType<Data>;
  /** How to turn the previous version's payload into this one (for consumers of old events). */
  readonly upcastFrom?: { readonly definition: EventDefinition; readonly upcast: (old: unknown) => Data };
  /** The NATS subject for one organization. */
  subject(orgId: string): string;
  /** A subject filter for this event (all organizations unless one is given). */
  filter(orgId?: string): string;
}

export interface EventDefinitionInput<Data> {
  context: string;
  entity: string;
  verb: string;
  version?: number;
  description: string;
  data: z.ZodType<Data>;
  upcastFrom?: { definition: EventDefinition; upcast: (old: unknown) => Data };
}

export function defineEvent<const Entity extends string, const Verb extends string, Data>(
  input: EventDefinitionInput<Data> & { entity: Entity; verb: Verb },
): EventDefinition<`${Entity}.${Verb}`, Data> {
  const version = input.version ?? 1;
  const type = eventType(input.context, input.entity, input.verb, version);
  if (input.upcastFrom) {
    const from = input.upcastFrom.definition;
    if (
      from.context !== input.context ||
      from.entity !== input.entity ||
      from.verb !== input.verb ||
      from.version !== version - 1
    ) {
      throw new Error(
        `${type} can only upcast from the previous version of the same event, not ${from.type}`,
      );
    }
  }
  return Object.freeze({
    context: input.context,
    entity: input.entity,
    verb: input.verb,
    version,
    name: `${input.entity}.${input.verb}` as `${Entity}.${Verb}`,
    type,
    description: input.description,
    data: input.data,
    upcastFrom: input.upcastFrom,
    subject: (orgId: string) => eventSubject(input.context, orgId, input.entity, input.verb),
    filter: (orgId?: string) => eventFilter(input.context, input.entity, input.verb, orgId),
  });
}

/** The `{ type, data }` domain event for a definition. */
export type DomainEventOf<D> = D extends EventDefinition<infer N, infer P> ? { type: N; data: P } : never;

/** The union of domain events of a list of definitions. */
export type DomainEventsOf<Defs extends readonly EventDefinition[]> = DomainEventOf<Defs[number]>;

export class UnknownEventTypeError extends Error {
  readonly code = 'unknown_event_type';
  constructor(readonly type: string) {
    super(`unknown event type "${type}"`);
  }
}

export class InvalidEventPayloadError extends Error {
  readonly code = 'invalid_event_payload';
  constructor(
    readonly type: string,
    readonly issues: string[],
  ) {
    super(`invalid payload for ${type}: ${issues.join('; ')}`);
  }
}

/** Formats zod issues as `path: message` lines, never echoing the input values. */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map(
    (issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`,
  );
}

export class EventRegistry {
  private readonly byType = new Map<string, EventDefinition>();

  constructor(definitions: Iterable<EventDefinition> = []) {
    for (const definition of definitions) this.register(definition);
  }

  register(definition: EventDefinition): this {
    const existing = this.byType.get(definition.type);
    if (existing && existing !== definition)
      throw new Error(`event type ${definition.type} is defined twice`);
    this.byType.set(definition.type, definition);
    return this;
  }

  registerAll(definitions: Iterable<EventDefinition>): this {
    for (const definition of definitions) this.register(definition);
    return this;
  }

  get(type: string): EventDefinition | undefined {
    return this.byType.get(type);
  }

  list(): EventDefinition[] {
    return [...this.byType.values()].sort((a, b) => a.type.localeCompare(b.type));
  }

  /** The newest registered version of the event that `type` is a version of. */
  latest(type: string): EventDefinition | undefined {
    const parsed = parseEventType(type);
    if (!parsed) return undefined;
    let best: EventDefinition | undefined;
    for (const definition of this.byType.values()) {
      if (
        definition.context === parsed.context &&
        definition.entity === parsed.entity &&
        definition.verb === parsed.verb
      ) {
        if (!best || definition.version > best.version) best = definition;
      }
    }
    return best;
  }

  /** Validates the payload of an envelope against its type's schema. */
  parseData<D>(envelope: { type: string; data: unknown }): D {
    const definition = this.byType.get(envelope.type);
    if (!definition) throw new UnknownEventTypeError(envelope.type);
    const result = definition.data.safeParse(envelope.data);
    if (!result.success) throw new InvalidEventPayloadError(envelope.type, formatIssues(result.error));
    return result.data as D;
  }

  /**
   * Validates an envelope's payload and upcasts it, version by version, to `target`
   * (the version the consumer was written for). A newer version than the target is
   * returned as is when its payload also satisfies the target's schema (additive change).
   */
  decode<D, E extends { type: string; data: unknown } = EventEnvelope<unknown>>(
    envelope: E,
    target: EventDefinition<string, D>,
  ): Omit<E, 'data'> & { data: D } {
    let data: unknown = this.parseData(envelope);
    const from = this.get(envelope.type)!;
    if (from.context !== target.context || from.entity !== target.entity || from.verb !== target.verb) {
      throw new Error(`${envelope.type} is not a version of ${target.type}`);
    }
    if (from.version > target.version) {
      const result = target.data.safeParse(data);
      if (!result.success) throw new InvalidEventPayloadError(target.type, formatIssues(result.error));
      return { ...envelope, type: target.type, data: result.data };
    }
    const chain: EventDefinition[] = [];
    for (let step: EventDefinition | undefined = target; step && step.version > from.version;) {
      chain.unshift(step);
      step = step.upcastFrom?.definition;
    }
    if (chain.length && chain[0].version !== from.version + 1) {
      throw new Error(`no upcaster chain from ${envelope.type} to ${target.type}`);
    }
    for (const step of chain) data = step.upcastFrom!.upcast(data);
    return { ...envelope, type: target.type, data: data as D };
  }
}
