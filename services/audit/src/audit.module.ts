import { DynamicModule, Module } from '@nestjs/common';
import { AUDIT, AUDIT_EVENTS } from '@palisade/contracts';
import { ServiceRuntimeModule, serviceRuntimeOptions } from '@palisade/runtime';
import { auditMigrations } from '../migrations';
import { AuditConfig } from './audit.config';
import { AuditExportService } from './export/audit-export.service';
import { AuditLogConsumer } from './consumers/audit-log.consumer';
import { AuditEventsController } from './http/audit-events.controller';
import { AuditProofsController } from './http/audit-proofs.controller';
import { AUDIT_READ_AUTHORIZER, AuditReadAuthorizer, AuditReadNotWired } from './http/audit-read.authorizer';
import { AUDIT_CONFIG, AuditLogService } from './log/audit-log.service';

/** The audit service's root module: mounted by its own main.ts and by `palisade dev` / `serve`. */
@Module({})
export class AuditModule {
  /**
   * `readAuthorizer`: the audit.read check of the query API (the authorization service's, once it
   * exists); closed by default.
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
        { provide: AUDIT_READ_AUTHORIZER, useValue: options.readAuthorizer ?? new AuditReadNotWired() },
        AuditLogService,
        AuditExportService,
      ],
      exports: [AuditLogService, AuditExportService],
    };
  }
}
