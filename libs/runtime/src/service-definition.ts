import { DynamicModule } from '@nestjs/common';
import { ContextConstants } from '@palisade/contracts';
import { MigrationSet, ServiceSchema } from '@palisade/persistence';
import { z } from 'zod';

/**
 * How the runner knows a service: its context, its environment schema, and its root module
 * built from the parsed configuration. Each service package exports one of these.
 */
export interface ServiceDefinition<Schema extends z.ZodType = z.ZodType> {
  readonly context: ContextConstants;
  /** The service's whole environment, as one zod schema (see libs/config). */
  readonly configSchema: Schema;
  /** The service's root module (the same one its own main.ts mounts). */
  module(config: z.infer<Schema>): DynamicModule;
  /**
   * The schema's migrations (the same set the module gives its runtime, which checks at start
   * that they were applied). `palisade migrate` runs them as the migration role.
   */
  readonly migrations: MigrationSet;
  /** NOLOGIN roles the migrations grant rights to and the service takes with `set local role`. */
  readonly schemaRoles?: readonly string[];
}

/** What `palisade migrate` needs of a service: its schema, migrations and extra roles. */
export function serviceSchemaOf(definition: ServiceDefinition): ServiceSchema {
  return {
    service: definition.context.context,
    schema: definition.context.schema,
    migrations: definition.migrations,
    roles: definition.schemaRoles,
  };
}

export function defineService<Schema extends z.ZodType>(
  definition: ServiceDefinition<Schema>,
): ServiceDefinition<Schema> {
  return definition;
}
