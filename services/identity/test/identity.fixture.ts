import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Controller, DynamicModule, Get, Module, UseGuards } from '@nestjs/common';
import { accessTokenProviders, AccessTokenGuard, CurrentPrincipal } from '@palisade/auth';
import type { Principal } from '@palisade/auth';
import { serviceConfigSchema } from '@palisade/config';
import { contextConstants } from '@palisade/contracts';
import {
  defineService,
  RunningPalisade,
  serviceLogins,
  ServiceRuntime,
  ServiceRuntimeModule,
  serviceRuntimeOptions,
  startPalisade,
} from '@palisade/runtime';
import { apiRequest, testDatabase } from '@palisade/testing';
import type { ServiceLogins } from '@palisade/runtime';
import { identityService } from '../src';

/**
 * Another Palisade service that only verifies credentials with libs/auth (JWKS over NATS from
 * identity, revocations from identity's events): what every service does.
 */
export function guardedService() {
  const context = contextConstants(`guarded${randomBytes(4).toString('hex')}`);

  @Controller(`v1/${context.context}`)
  class GuardedController {
    @Get('me')
    @UseGuards(AccessTokenGuard)
    me(@CurrentPrincipal() principal: Principal) {
      return principal;
    }
  }

  @Module({})
  class GuardedModule {
    static register(config: Record<string, unknown>): DynamicModule {
      return {
        module: GuardedModule,
        imports: [ServiceRuntimeModule.forService(serviceRuntimeOptions(context, [], {}, config))],
        controllers: [GuardedController],
        providers: [
          ...accessTokenProviders({
            inject: [ServiceRuntime],
            resolve: (runtime: ServiceRuntime) => ({ nc: () => runtime.nc }),
          }),
        ],
      };
    }
  }
  return {
    context,
    path: `/v1/${context.context}/me`,
    service: defineService({
      context,
      configSchema: serviceConfigSchema(context.context, {}),
      migrations: {},
      module: (config) => GuardedModule.register(config),
    }),
  };
}

export interface IdentityHarness {
  identity: RunningPalisade;
  guarded: RunningPalisade;
  guardedPath: string;
  bootstrapFile: string;
  /** The admin's URL, for the tests' own inspection (the services use their own logins). */
  databaseUrl: string;
  /** The services' own logins (serviceEnv for another service, serviceUrl to act as one). */
  logins: ServiceLogins;
  env: Record<string, string | undefined>;
  stop(): Promise<void>;
}

/** Identity and a guarded service, each in its own process-like app, on the run's NATS and a fresh database. */
export async function startIdentityHarness(extraEnv: Record<string, string> = {}): Promise<IdentityHarness> {
  const database = await testDatabase();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-identity-'));
  const bootstrapFile = path.join(dir, 'bootstrap-admin.json');
  const guarded = guardedService();
  const logins = serviceLogins(database.url, database.name);
  const env = {
    ...(await logins.serviceEnv([identityService, guarded.service])),
    NATS_URL: process.env.NATS_URL,
    HTTP_PORT: '0',
    LOG_LEVEL: 'silent',
    IDENTITY_BOOTSTRAP_FILE: bootstrapFile,
    IDENTITY_KEY_ENCRYPTION_KEY_FILE: path.join(dir, 'identity-key-encryption.key'),
    ...extraEnv,
  };
  const identity = await startPalisade({ services: [identityService], env });
  const other = await startPalisade({ services: [guarded.service], env });
  return {
    identity,
    guarded: other,
    guardedPath: guarded.path,
    bootstrapFile,
    databaseUrl: database.url,
    logins,
    env,
    stop: async () => {
      await other.stop();
      await identity.stop();
      await database.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Small HTTP helpers for the identity API. */
export function client(base: string) {
  const request = (method: string, url: string, options: { body?: unknown; token?: string } = {}) =>
    apiRequest(base, method, url, options);
  return {
    get: (url: string, token?: string) => request('GET', url, { token }),
    post: (url: string, body?: unknown, token?: string) => request('POST', url, { body, token }),
  };
}

export function errorCode(body: Record<string, unknown>): string | undefined {
  return (body.error as { code?: string } | undefined)?.code;
}
