import { z } from 'zod';
import {
  choice,
  demoTokensField,
  fileField,
  hostField,
  httpUrlField,
  issuerField,
  LOG_LEVELS,
  nameField,
  natsServersField,
  PALISADE_MODES,
  portField,
  postgresUrlField,
  secretField,
} from './config-fields';
import { applyConfigRules, ConfigRulesOptions } from './config-rules';

/** The settings every Palisade process reads (services add their own through `serviceConfigSchema`). */
export const baseConfigShape = {
  /** dev (default), demo or production; production refuses demo tokens, weak secrets and a missing OIDC issuer. */
  PALISADE_MODE: choice(PALISADE_MODES).default('dev'),
  /** Pino level of the JSON logs. */
  LOG_LEVEL: choice(LOG_LEVELS).default('info'),
  /** Address the HTTP API listens on. */
  HTTP_HOST: hostField().default('127.0.0.1'),
  /** Port of the HTTP API (0 picks a free port). */
  HTTP_PORT: portField().default(8080),
  /** Postgres connection URL (each service uses its own schema in it). */
  DATABASE_URL: postgresUrlField(),
  /** NATS server URL, or a comma-separated list of them. */
  NATS_URL: natsServersField().default('nats://127.0.0.1:4222'),
  /** NATS user shared by the process's services (per service: `<SERVICE>_NATS_USER`). */
  NATS_USER: nameField().optional(),
  /** Password of NATS_USER (per service: `<SERVICE>_NATS_PASSWORD`). */
  NATS_PASSWORD: secretField().optional(),
  /** CA certificate (PEM) the NATS server's certificate must chain to; TLS is used when it is set. */
  NATS_TLS_CA_FILE: fileField().optional(),
  /** Client certificate (PEM) shown to NATS (per service: `<SERVICE>_NATS_TLS_CERT_FILE`). */
  NATS_TLS_CERT_FILE: fileField().optional(),
  /** Its private key (PEM) (per service: `<SERVICE>_NATS_TLS_KEY_FILE`). */
  NATS_TLS_KEY_FILE: fileField().optional(),
  /** OTLP/HTTP collector base URL; traces and metrics are exported only when it is set. */
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrlField().optional(),
  /** Overrides the service name reported to OpenTelemetry. */
  OTEL_SERVICE_NAME: nameField().optional(),
  /** Static demo tokens, "writer:<token>,reader:<token>"; demo mode only. */
  PALISADE_DEMO_TOKENS: demoTokensField().optional(),
  /** OIDC issuer URL people sign in with; required (https) in production. */
  PALISADE_OIDC_ISSUER: issuerField().optional(),
};

/** Turns a config shape into its schema: the fields, then the mode and cross-field rules (which run even when fields fail). */
export function configSchemaFromShape<Shape extends z.ZodRawShape>(
  shape: Shape,
  options: ConfigRulesOptions = {},
) {
  return z
    .object(shape)
    .superRefine((value, ctx) => applyConfigRules(shape, options, ctx), { when: () => true });
}

/** The base configuration schema (what a process needs before any service). */
export const baseConfigSchema = configSchemaFromShape(baseConfigShape);
export type BaseConfig = z.infer<typeof baseConfigSchema>;

/**
 * What a process running services reads for itself (logs, HTTP, telemetry): the base settings,
 * with DATABASE_URL optional, since each service checks its own (`<SERVICE>_DATABASE_URL` or
 * DATABASE_URL) and a process whose services all have their own login needs no shared one.
 */
export const processConfigSchema = configSchemaFromShape({
  ...baseConfigShape,
  DATABASE_URL: baseConfigShape.DATABASE_URL.optional(),
});
