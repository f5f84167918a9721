import { DynamicModule, Module } from '@nestjs/common';
import { AUDIT, AUDIT_EVENTS } from '@palisade/contracts';
import { ServiceRuntimeModule, serviceRuntimeOptions } from '@palisade/runtime';
import { auditMigrations } from '../migrations';
import { AuditConfig } from './audit.config';
import { AuditExportService } from './export/audit-export.service';
import { AuditLogConsumer } from './consumers/audit-log.consumer';
import { AuditProofsController } from './http/audit-proofs.controller';
import { AUDIT_CONFIG, AuditLogService } from './log/audit-log.service';

/** The audit service's root module: mounted by its own main.ts and by `palisade dev` / `serve`. */
@Module({})
export class AuditModule {
  static register(config: AuditConfig): DynamicModule {
    return {
      module: AuditModule,
      imports: [
        ServiceRuntimeModule.forService(serviceRuntimeOptions(AUDIT, AUDIT_EVENTS, auditMigrations, config)),
      ],
      controllers: [AuditLogConsumer, AuditProofsController],
      providers: [{ provide: AUDIT_CONFIG, useValue: config }, AuditLogService, AuditExportService],
      exports: [AuditLogService, AuditExportService],
    };
  }
}
