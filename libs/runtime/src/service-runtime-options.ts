import { ContextConstants, EventDefinition } from '@palisade/contracts';
import { resolveServiceConnections } from '@palisade/config';
import { MigrationSet } from '@palisade/persistence';
import { ServiceRuntimeOptions } from './service-runtime';

/**
 * Runtime options of a service from its parsed configuration (its own database URL and NATS user
 * win); the configuration itself becomes the module's SERVICE_CONFIG.
 */
export function serviceRuntimeOptions(
  context: ContextConstants,
  events: readonly EventDefinition[],
  migrations: MigrationSet,
  config: Readonly<Record<string, unknown>>,
): ServiceRuntimeOptions {
  const connections = resolveServiceConnections(context.context, config);
  return {
    context,
    events,
    migrations,
    databaseUrl: connections.databaseUrl,
    nats: connections.nats,
    config,
  };
}
