import { DynamicModule, Module, OnApplicationShutdown, Inject } from '@nestjs/common';
import { ACCESS_TOKEN_VERIFIER, serviceAccessTokenProviders } from '@palisade/auth';
import type { AccessTokenVerifier } from '@palisade/auth';
import { AUDIT, AUDIT_EVENTS } from '@palisade/contracts';
import { ServiceRuntime, ServiceRuntimeModule, serviceRuntimeOptions } from '@palisade/runtime';
import { auditMigrations } from '../migrations';
import { AuditConfig } from './audit.config';
import { AuditExportService } from './export/audit-export.service';
import { AuditLogConsumer } from './consumers/audit-log.consumer';
import { AuditEventsController } from './http/audit-events.controller';
import { AuditProofsController } from './http/audit-proofs.controller';
import { AUDIT_READ_AUTHORIZER } from './http/audit-read.authorizer';
import type { AuditReadAuthorizer } from './http/audit-read.authorizer';
import { AuthzAuditReadAuthorizer } from './http/authz-audit-read.authorizer';
import { AUDIT_CONFIG, AuditLogService } from './log/audit-log.service';

/** The audit service's root module: mounted by its own main.ts and by `palisade dev` / `serve`. */
@Module({})
export class AuditModule {
  /**
   * `readAuthorizer`: the audit.read check of the query API; by default the caller's token is
   * verified (libs/auth) and authorization decides audit.read over NATS.
   */
  static register(
    config: AuditConfig,
    options: { readAuthorizer?: AuditReadAuthorizer } = {},
  ): DynamicModule {
    return {
      module: AuditModule,
      imports: [
        ServiceRuntimeModule.forService(serviceRuntimeOptions(AUDIT, AUDIT_EVENTS, auditMigrations, config)),
      ],
      controllers: [AuditLogConsumer, AuditProofsController, AuditEventsController],
      providers: [
        { provide: AUDIT_CONFIG, useValue: config },
        ...serviceAccessTokenProviders(config),
        options.readAuthorizer
          ? { provide: AUDIT_READ_AUTHORIZER, useValue: options.readAuthorizer }
          : {
              provide: AUDIT_READ_AUTHORIZER,
              inject: [ACCESS_TOKEN_VERIFIER, ServiceRuntime],
              useFactory: (verifier: AccessTokenVerifier, runtime: ServiceRuntime) =>
                new AuthzAuditReadAuthorizer(verifier, () => runtime.nc),
            },
        ReadAuthorizerLifecycle,
        AuditLogService,
        AuditExportService,
      ],
      exports: [AuditLogService, AuditExportService],
    };
  }
}

/** Stops the default authorizer's event feed with the application. */
class ReadAuthorizerLifecycle implements OnApplicationShutdown {
  constructor(@Inject(AUDIT_READ_AUTHORIZER) private readonly authorizer: AuditReadAuthorizer) {}
  async onApplicationShutdown(): Promise<void> {
    if (this.authorizer instanceof AuthzAuditReadAuthorizer) await this.authorizer.stop();
  }
}
