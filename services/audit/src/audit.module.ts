import { DynamicModule, Module, Provider } from '@nestjs/common';
import { ACCESS_TOKEN_VERIFIER, PERMISSION_CHECKER, serviceAccessTokenProviders } from '@palisade/auth';
import type { Principal, PermissionChecker } from '@palisade/auth';
import { AUDIT, AUDIT_EVENTS } from '@palisade/contracts';
import { ServiceRuntimeModule, serviceRuntimeOptions } from '@palisade/runtime';
import { auditMigrations } from '../migrations';
import { AuditConfig } from './audit.config';
import { AuditExportService } from './export/audit-export.service';
import { AuditLogConsumer } from './consumers/audit-log.consumer';
import { AuditEventsController } from './http/audit-events.controller';
import { AuditProofsController } from './http/audit-proofs.controller';
import { AuditLogService } from './log/audit-log.service';

/** Stand-ins for identity and authorization at the audit API's edge (tests of the audit service alone). */
export interface AuditEdgeOverrides {
  /** Who a bearer token is (instead of identity's JWKS, revocations and API tokens). */
  credentials?: { verify(token: string | undefined): Promise<Principal> };
  /** Who may read (instead of asking authorization over NATS). */
  permissions?: PermissionChecker;
}

/** The audit service's root module: mounted by its own main.ts and by `palisade dev` / `serve`. */
@Module({})
export class AuditModule {
  /**
   * By default the caller's token is verified (libs/auth) and authorization decides audit.read
   * over NATS; `overrides` replace either for tests of the audit service alone.
   */
  static register(config: AuditConfig, overrides: AuditEdgeOverrides = {}): DynamicModule {
    const edge: Provider[] = [
      ...serviceAccessTokenProviders(config, {
        permissions: overrides.permissions && {
          provide: PERMISSION_CHECKER,
          useValue: overrides.permissions,
        },
      }),
      // Last: replaces the verifier above.
      ...(overrides.credentials ? [{ provide: ACCESS_TOKEN_VERIFIER, useValue: overrides.credentials }] : []),
    ];
    return {
      module: AuditModule,
      imports: [
        ServiceRuntimeModule.forService(serviceRuntimeOptions(AUDIT, AUDIT_EVENTS, auditMigrations, config)),
      ],
      controllers: [AuditLogConsumer, AuditProofsController, AuditEventsController],
      providers: [...edge, AuditLogService, AuditExportService],
      exports: [AuditLogService, AuditExportService],
    };
  }
}
