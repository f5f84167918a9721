import { createPublicKey, KeyObject } from 'node:crypto';
import {
  Inject,
  Injectable,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { CONTEXTS, contextConstants, EventEnvelope } from '@palisade/contracts';
import { contextStreamConfig, describeError, isNotFound } from '@palisade/messaging';
import type { AnyDatabase } from '@palisade/persistence';
import type { Clock } from '@palisade/domain';
import { CLOCK, SERVICE_CONFIG, SERVICE_LOGGER, ServiceRuntime } from '@palisade/runtime';
import type { Logger } from 'pino';
import type { AuditConfig } from '../audit.config';
import { keyIdOf, SignedCheckpoint } from '../domain';
import { AppendOutcome, appendToLog, AppendSettings, checkpointIfNew } from './audit-appender';
import { auditAppendDuration, reportAuditLog } from './audit.metrics';
import { loadSigningKey } from './signing-key';

/**
 * The audit log as the service runs it: appends from the consumer, the signing key, and the
 * timer that signs a checkpoint every AUDIT_CHECKPOINT_INTERVAL_MS when entries arrived.
 */
@Injectable()
export class AuditLogService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private key?: Promise<KeyObject>;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<unknown>;
  private stopped = false;
  private readonly appendDuration = auditAppendDuration();
  readonly settings: AppendSettings;

  constructor(
    private readonly runtime: ServiceRuntime,
    @Inject(SERVICE_CONFIG) private readonly config: AuditConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(CLOCK) clock: Clock,
  ) {
    this.settings = {
      store: runtime.store,
      signingKey: () => this.signingKey(),
      checkpointEvery: config.AUDIT_CHECKPOINT_EVERY,
      clock,
    };
    reportAuditLog(() => this.db);
  }

  get db(): AnyDatabase {
    return this.runtime.db;
  }

  /** Every context's stream must exist before the audit consumers attach (the owner may start later). */
  async onModuleInit(): Promise<void> {
    const jsm = await this.runtime.nc.jetstreamManager();
    for (const context of CONTEXTS) {
      const config = contextStreamConfig(contextConstants(context));
      try {
        await jsm.streams.info(config.name);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        await jsm.streams.add(config).catch((e: Error) => {
          if (!/already in use|already exists/i.test(e.message)) throw e;
        });
      }
    }
    const { generated } = await loadSigningKey(this.db, this.config.AUDIT_SIGNING_KEY);
    if (generated)
      this.logger.warn(
        { keyId: await this.publicKeyId() },
        'audit checkpoints are signed with a generated key kept in the database; set AUDIT_SIGNING_KEY outside dev',
      );
  }

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
  }

  signingKey(): Promise<KeyObject> {
    this.key ??= loadSigningKey(this.db, this.config.AUDIT_SIGNING_KEY).then((k) => k.key);
    return this.key;
  }

  async publicKey(): Promise<KeyObject> {
    return createPublicKey(await this.signingKey());
  }

  async publicKeyId(): Promise<string> {
    return keyIdOf(await this.publicKey());
  }

  /** Appends in the consumer's transaction. */
  async append(trx: AnyDatabase, events: readonly EventEnvelope[]): Promise<AppendOutcome> {
    const end = this.appendDuration.startTimer();
    try {
      return await appendToLog(trx, events, this.settings);
    } finally {
      end();
    }
  }

  /** Signs a checkpoint now if entries arrived since the last one; returns it. */
  async checkpointNow(): Promise<SignedCheckpoint | undefined> {
    let trx: AnyDatabase | undefined;
    const checkpoint = await this.db.transaction().execute(async (t) => {
      trx = t;
      return checkpointIfNew(t, this.settings);
    });
    if (checkpoint) this.runtime.store.afterCommit(trx!);
    return checkpoint;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.checkpointNow()
        .catch((error) =>
          this.logger.warn({ err: describeError(error) }, 'timed audit checkpoint failed; will retry'),
        )
        .finally(() => this.schedule());
    }, this.config.AUDIT_CHECKPOINT_INTERVAL_MS);
    this.timer.unref?.();
  }
}
