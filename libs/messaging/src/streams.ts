import { ContextConstants, DLQ_SUBJECT_ROOT } from '@palisade/contracts';
import { DiscardPolicy, JetStreamManager, nanos, RetentionPolicy, StorageType, StreamConfig } from 'nats';

export interface StreamOptions {
  /** How long JetStream keeps events (default 30 days). Postgres stays the source of truth. */
  maxAgeMs?: number;
  /** Replicas in a clustered deployment (default 1). */
  replicas?: number;
  /** Window in which a repeated Nats-Msg-Id is dropped (default 2 minutes). */
  duplicateWindowMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The stream configuration of a context: EVT_<CONTEXT>, file storage, dedup window. */
export function contextStreamConfig(
  context: ContextConstants,
  options: StreamOptions = {},
): Partial<StreamConfig> & { name: string } {
  return fileStream(context.stream, context.subjects, `Palisade ${context.context} events`, options);
}

/** The dead-letter stream of a service's consumers: DLQ_<SERVICE> on dlq.<service>.> */
export function deadLetterStreamConfig(
  context: ContextConstants,
  options: StreamOptions = {},
): Partial<StreamConfig> & { name: string } {
  const subjects = `${DLQ_SUBJECT_ROOT}.${context.context}.>`;
  return fileStream(context.deadLetterStream, subjects, `Palisade ${context.context} dead letters`, options);
}

function fileStream(
  name: string,
  subjects: string,
  description: string,
  options: StreamOptions,
): Partial<StreamConfig> & { name: string } {
  return {
    name,
    subjects: [subjects],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(options.maxAgeMs ?? 30 * DAY_MS),
    duplicate_window: nanos(options.duplicateWindowMs ?? 2 * 60 * 1000),
    num_replicas: options.replicas ?? 1,
    description,
  };
}

/** Creates the stream or updates it to the given configuration. Idempotent. */
export async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<void> {
  try {
    await jsm.streams.info(config.name);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    try {
      await jsm.streams.add(config);
      return;
    } catch (addError) {
      // Another replica created it between our info and add.
      if (!/already in use|already exists/i.test(String((addError as Error).message))) throw addError;
    }
  }
  await jsm.streams.update(config.name, config);
}

export function isNotFound(error: unknown): boolean {
  const e = error as { code?: string; api_error?: { err_code?: number }; message?: string };
  return (
    e?.code === '404' ||
    e?.api_error?.err_code === 10059 ||
    e?.api_error?.err_code === 10014 ||
    /not found/i.test(e?.message ?? '')
  );
}
