import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { NatsServerHandle, startNatsServer } from '@palisade/embedded';
import { Client } from 'pg';
import { readTestState } from './test-state';

/** A short random id with a readable prefix, e.g. `org-3f9a1c2b`. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

async function admin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: readTestState().postgresUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  /** The admin's (superuser's) URL: for the test's own inspection and for provisioning, never for a service. */
  url: string;
  /** Also the prefix of the roles made for it (`serviceLogins(url, name)`), which drop() removes. */
  name: string;
  drop(): Promise<void>;
}

/** A fresh database of this test's own on the run's Postgres; its roles (`<name>_…`) are dropped with it. */
export async function testDatabase(): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`create database "${name}"`));
  const url = readTestState().postgresUrl.replace(/\/postgres$/, `/${name}`);
  return {
    url,
    name,
    drop: () =>
      admin(async (client) => {
        await client.query(`drop database if exists "${name}" with (force)`);
        const { rows } = await client.query<{ role: string }>(
          `select rolname as role from pg_roles where rolname like $1`,
          [`${name}\\_%`],
        );
        for (const { role } of rows) await client.query(`drop role if exists "${role}"`);
      }),
  };
}

/** A nats-server of this test's own (in its own temp folder), for tests that kill or restart the broker. */
export async function privateNats(configText?: string): Promise<NatsServerHandle & { dataDir: string }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-nats-'));
  const handle = await startNatsServer({ dataDir, configText, binary: readTestState().natsServerBinary });
  return {
    ...handle,
    get pid() {
      return handle.pid;
    },
    dataDir,
    stop: async () => {
      await handle.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
