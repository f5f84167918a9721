/** Options of `ObservabilityModule.forRoot`. */
export interface ObservabilityModuleOptions {
  /** Per-check limit of GET /readyz (default 2000 ms). */
  readinessTimeoutMs?: number;
  /** Collect Node's default metrics into the registry (default true). */
  defaultMetrics?: boolean;
}

export type ResolvedObservabilityOptions = Required<ObservabilityModuleOptions>;

/** Injection token of the resolved options. */
export const OBSERVABILITY_OPTIONS = Symbol.for('palisade.observability.options');
