import { PLACEMENT_EVENTS } from '@palisade/contracts';
import type { PlacementEvent } from '@palisade/contracts';
import { HostIndex } from '../domain/host-index';
import { evolveHost, HostState, isHostEvent } from '../domain/host.state';

const NAME_BY_TYPE = new Map<string, PlacementEvent['type']>(
  PLACEMENT_EVENTS.map((d) => [d.type, d.name as PlacementEvent['type']]),
);

type Failed = Extract<PlacementEvent, { type: 'placement.failed' }>['data'];
type Violated = Extract<PlacementEvent, { type: 'placement.violation' }>['data'];

/** The newest `limit` entries, oldest first. */
class Recent<T> {
  private readonly items: T[] = [];
  constructor(private readonly limit: number) {}
  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.limit) this.items.shift();
  }
  list(): readonly T[] {
    return this.items;
  }
}

/** A host stream as folded here: its state, its version, and how many of its events the catch-up has passed. */
interface HostStream {
  state: HostState | null;
  version: number;
  seen: number;
}

/**
 * Every host placement knows, folded from its events: the index the decision reads, the recent
 * refusals and violations an operator looks at. Two paths keep it current and never apply an
 * event twice: the catch-up reads the store by producer sequence (every replica's events), and
 * this process's own commands record the state they committed right away (so the next decision
 * sees it without waiting). Per host, the catch-up applies only events past the version it has.
 */
export class PlacementView {
  readonly index = new HostIndex();
  /** The last producer sequence the catch-up applied. */
  sequence = 0;
  private readonly streams = new Map<string, HostStream>();
  private readonly failed = new Recent<Failed>(200);
  private readonly violated = new Recent<Violated>(200);

  /** Applies the event with this producer sequence (each exactly once, in order). */
  apply(sequence: number, type: string, data: unknown): void {
    if (sequence !== this.sequence + 1)
      throw new Error(`placement view expected sequence ${this.sequence + 1}, got ${sequence}`);
    const name = NAME_BY_TYPE.get(type);
    if (!name) throw new Error(`placement view cannot apply ${type}`);
    const event = { type: name, data } as PlacementEvent;
    if (isHostEvent(event)) {
      const stream = this.stream(event.data.hostId);
      stream.seen++;
      if (stream.seen > stream.version) {
        stream.state = evolveHost(stream.state, event);
        stream.version = stream.seen;
        this.index.put(event.data.hostId, stream.state);
      }
    } else if (event.type === 'placement.failed') this.failed.push(event.data);
    else if (event.type === 'placement.violation') this.violated.push(event.data);
    this.sequence = sequence;
  }

  /** What a command of this process committed: the host's state at `version`. */
  record(hostId: string, state: HostState | null, version: number): void {
    const stream = this.stream(hostId);
    if (version <= stream.version) return;
    stream.state = state;
    stream.version = version;
    this.index.put(hostId, state);
  }

  /** A host's state and version as known here (the expected version of its next append). */
  hostStream(hostId: string): { state: HostState | null; version: number } {
    const stream = this.streams.get(hostId);
    return stream ? { state: stream.state, version: stream.version } : { state: null, version: 0 };
  }

  addOrganization(orgId: string): void {
    this.index.addOrganization(orgId);
  }

  failures(): readonly Failed[] {
    return this.failed.list();
  }

  violations(): readonly Violated[] {
    return this.violated.list();
  }

  private stream(hostId: string): HostStream {
    let stream = this.streams.get(hostId);
    if (!stream) this.streams.set(hostId, (stream = { state: null, version: 0, seen: 0 }));
    return stream;
  }
}
