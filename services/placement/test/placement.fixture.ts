import type { HostCapacity, HostLabels } from '@palisade/contracts';
import { fold } from '@palisade/persistence';
import { hostDecider } from '../src/domain/host.decider';
import type { HostEvent, HostState } from '../src/domain/host.state';

export const T0 = Date.parse('2026-12-01T09:00:00Z');
export const EMPTY_BASELINE = { containers: [], volumes: [], networks: [], images: [] };

export const registered = (
  hostId: string,
  capacity: HostCapacity = { cpuMillis: 4000, memoryBytes: 8 * 2 ** 30, runtimes: 10 },
  labels: HostLabels = {},
): HostEvent => ({
  type: 'host.registered',
  data: {
    hostId,
    engineUrl: `unix:///run/${hostId}.sock`,
    provider: 'static',
    capacity,
    labels,
    baseline: EMPTY_BASELINE,
    registeredBy: 'user:olga',
    registeredAt: new Date(T0).toISOString(),
  },
});

/** The state after these events. */
export const stateOf = (events: HostEvent[]): HostState | null => fold(hostDecider, events);

let runtimeCounter = 0;
/** A fresh runtime id (a UUID). */
export function runtimeId(): string {
  runtimeCounter++;
  return `01937a00-0000-7000-8000-${runtimeCounter.toString(16).padStart(12, '0')}`;
}
