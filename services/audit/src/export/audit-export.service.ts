import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Clock } from '@palisade/domain';
import { CLOCK, SERVICE_CONFIG, SERVICE_LOGGER, ServiceRuntime } from '@palisade/runtime';
import type { Logger } from 'pino';
import type { AuditConfig } from '../audit.config';
import { ClickHouseExporter } from './clickhouse-exporter';

/** Runs the ClickHouse exporter when AUDIT_CLICKHOUSE_URL is set. */
@Injectable()
export class AuditExportService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly exporter?: ClickHouseExporter;

  constructor(
    runtime: ServiceRuntime,
    @Inject(SERVICE_CONFIG) config: AuditConfig,
    @Inject(SERVICE_LOGGER) logger: Logger,
    @Inject(CLOCK) clock: Clock,
  ) {
    if (config.AUDIT_CLICKHOUSE_URL) {
      this.exporter = new ClickHouseExporter({
        db: runtime.db,
        url: config.AUDIT_CLICKHOUSE_URL,
        database: config.AUDIT_CLICKHOUSE_DATABASE,
        username: config.AUDIT_CLICKHOUSE_USER,
        password: config.AUDIT_CLICKHOUSE_PASSWORD,
        batchSize: config.AUDIT_EXPORT_BATCH_SIZE,
        flushMs: config.AUDIT_EXPORT_FLUSH_MS,
        clock,
        logger,
      });
    }
  }

  onApplicationBootstrap(): void {
    this.exporter?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.exporter?.stop();
  }
}
