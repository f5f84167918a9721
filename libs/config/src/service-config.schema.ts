import { z } from 'zod';
import { baseConfigShape, configSchemaFromShape } from './base-config.schema';
import { fileField, nameField, postgresUrlField, secretField } from './config-fields';

/** Upper snake case of a kebab-case service name at the type level: 'runtime-scheduler' → 'RUNTIME_SCHEDULER'. */
export type ServiceEnvPrefix<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Uppercase<Head>}_${ServiceEnvPrefix<Tail>}`
  : Uppercase<S>;

/** The per-service overrides of the shared NATS credentials and database URL. */
export type ServiceOverrideShape<P extends string> = Record<
  `${P}_NATS_USER`,
  z.ZodOptional<ReturnType<typeof nameField>>
> &
  Record<`${P}_NATS_PASSWORD`, z.ZodOptional<ReturnType<typeof secretField>>> &
  Record<`${P}_DATABASE_URL`, z.ZodOptional<ReturnType<typeof postgresUrlField>>> &
  Record<`${P}_NATS_TLS_CERT_FILE` | `${P}_NATS_TLS_KEY_FILE`, z.ZodOptional<ReturnType<typeof fileField>>>;

type BaseShape = typeof baseConfigShape;
/** A service's whole shape: base settings (DATABASE_URL optional when overridden), its overrides, then its own fields. */
export type ServiceConfigShape<S extends string, Extra extends z.ZodRawShape> = Omit<
  Omit<BaseShape, 'DATABASE_URL'> & {
    DATABASE_URL: z.ZodOptional<BaseShape['DATABASE_URL']>;
  } & ServiceOverrideShape<ServiceEnvPrefix<S>>,
  keyof Extra
> &
  Extra;

/** 'runtime-scheduler' → 'RUNTIME_SCHEDULER', the prefix of a service's own environment variables. */
export function serviceEnvPrefix<S extends string>(service: S): ServiceEnvPrefix<S> {
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(service))
    throw new Error(`service name "${service}" must be kebab-case, e.g. runtime-scheduler`);
  return service.toUpperCase().replace(/-/g, '_') as ServiceEnvPrefix<S>;
}

/**
 * One service's environment as ONE schema: the base settings, `<SERVICE>_NATS_USER`,
 * `<SERVICE>_NATS_PASSWORD` and `<SERVICE>_DATABASE_URL` overrides, and the service's own
 * fields (mark secrets with `sensitive()`); with the mode and production rules.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- "no extra fields" default for a zod shape
export function serviceConfigSchema<S extends string, Extra extends z.ZodRawShape = {}>(
  service: S,
  extraShape: Extra = {} as Extra,
) {
  const prefix = serviceEnvPrefix(service);
  const shape = {
    ...baseConfigShape,
    DATABASE_URL: baseConfigShape.DATABASE_URL.optional(),
    [`${prefix}_NATS_USER`]: nameField().optional(),
    [`${prefix}_NATS_PASSWORD`]: secretField().optional(),
    [`${prefix}_DATABASE_URL`]: postgresUrlField().optional(),
    [`${prefix}_NATS_TLS_CERT_FILE`]: fileField().optional(),
    [`${prefix}_NATS_TLS_KEY_FILE`]: fileField().optional(),
    ...extraShape,
  } as unknown as ServiceConfigShape<S, Extra>;
  return configSchemaFromShape(shape, { servicePrefix: prefix });
}

/** TLS to NATS: the CA to trust, and the client certificate and key to show (mutual TLS). */
export interface NatsTlsFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** Where a service connects: its effective database URL and NATS servers, credentials and TLS. */
export interface ServiceConnections {
  /** Postgres TLS travels in the URL, as libpq spells it: `?sslmode=verify-full&sslrootcert=…&sslcert=…&sslkey=…`. */
  databaseUrl: string;
  nats: { servers: string; user?: string; password?: string; tls?: NatsTlsFiles };
}

/**
 * Resolves a service's effective connections from its parsed config: `<SERVICE>_DATABASE_URL`
 * over DATABASE_URL, the `<SERVICE>_NATS_USER`/`_PASSWORD` pair over NATS_USER/NATS_PASSWORD,
 * and `<SERVICE>_NATS_TLS_CERT_FILE`/`_KEY_FILE` over NATS_TLS_CERT_FILE/NATS_TLS_KEY_FILE.
 */
export function resolveServiceConnections(
  service: string,
  config: Readonly<Record<string, unknown>>,
): ServiceConnections {
  const prefix = serviceEnvPrefix(service);
  const text = (key: string): string | undefined =>
    typeof config[key] === 'string' ? (config[key] as string) : undefined;
  const databaseUrl = text(`${prefix}_DATABASE_URL`) ?? text('DATABASE_URL');
  if (databaseUrl === undefined)
    throw new Error(`${service} has no database URL; parse its config with loadConfig first`);
  const ownNats = text(`${prefix}_NATS_USER`) !== undefined || text(`${prefix}_NATS_PASSWORD`) !== undefined;
  const user = ownNats ? text(`${prefix}_NATS_USER`) : text('NATS_USER');
  const password = ownNats ? text(`${prefix}_NATS_PASSWORD`) : text('NATS_PASSWORD');
  const ownCert = text(`${prefix}_NATS_TLS_CERT_FILE`) !== undefined;
  const tls: NatsTlsFiles = {
    caFile: text('NATS_TLS_CA_FILE'),
    certFile: ownCert ? text(`${prefix}_NATS_TLS_CERT_FILE`) : text('NATS_TLS_CERT_FILE'),
    keyFile: ownCert ? text(`${prefix}_NATS_TLS_KEY_FILE`) : text('NATS_TLS_KEY_FILE'),
  };
  const usesTls = Object.values(tls).some((file) => file !== undefined);
  return {
    databaseUrl,
    nats: {
      servers: text('NATS_URL') ?? 'nats://127.0.0.1:4222',
      ...(user === undefined ? {} : { user }),
      ...(password === undefined ? {} : { password }),
      ...(usesTls ? { tls: Object.fromEntries(Object.entries(tls).filter(([, file]) => file)) } : {}),
    },
  };
}
