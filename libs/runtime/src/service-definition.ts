import { DynamicModule } from '@nestjs/common';
import { ContextConstants } from '@palisade/contracts';
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
}

export function defineService<Schema extends z.ZodType>(
  definition: ServiceDefinition<Schema>,
): ServiceDefinition<Schema> {
  return definition;
}
