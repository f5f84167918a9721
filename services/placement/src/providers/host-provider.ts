import type { HostCapacity, HostLabels, HostProviderName } from '@palisade/contracts';
import type { ProviderOffer } from '../domain/decision';

/** A host a provider started: what placement registers. */
export interface ProvisionedHost {
  hostId: string;
  engineUrl: string;
  capacity: HostCapacity;
  labels: HostLabels;
}

/**
 * Where new hosts come from when the pool is full. `static`: nowhere (the registered pool is
 * all there is). `local`: another dockerd on this machine. A cloud provider (a VM per host)
 * implements the same three methods (docs/placement.md).
 */
export interface HostProvider {
  readonly name: HostProviderName;
  /** What a new host would look like, or undefined when this provider adds none now. */
  offer(): ProviderOffer | undefined;
  /** Starts a new host and resolves when its engine answers. */
  provision(): Promise<ProvisionedHost>;
  /** Stops a host this provider started (when the host is removed). */
  decommission(hostId: string): Promise<void>;
}

/** Injection token of the service's HostProvider. */
export const HOST_PROVIDER = Symbol.for('palisade.placement.host-provider');

/** The registered pool and nothing else. */
export class StaticHostProvider implements HostProvider {
  readonly name = 'static' as const;
  offer(): undefined {
    return undefined;
  }
  provision(): Promise<never> {
    return Promise.reject(
      new Error('the static provider adds no hosts; register them with palisade host add'),
    );
  }
  async decommission(): Promise<void> {}
}
