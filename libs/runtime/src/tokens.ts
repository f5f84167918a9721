/** Injection tokens of the service runtime (the same token resolves per service module). */

/** The service's kysely database (its own schema first on the search_path). */
export const SERVICE_DATABASE = Symbol.for('palisade.runtime.database');
/** Options a service module passes to ServiceRuntimeModule.forService. */
export const SERVICE_RUNTIME_OPTIONS = Symbol.for('palisade.runtime.options');
/** The service's pino logger (a child of the process logger with `service` set). */
export const SERVICE_LOGGER = Symbol.for('palisade.runtime.service-logger');
/** The process-wide pino logger. */
export const ROOT_LOGGER = Symbol.for('palisade.runtime.root-logger');
/** The service's parsed configuration (provided by ServiceRuntimeModule.forService). */
export const SERVICE_CONFIG = Symbol.for('palisade.runtime.config');
/** The process-wide Clock (@palisade/domain): the system clock, or a test's own. */
export const CLOCK = Symbol.for('palisade.runtime.clock');
