import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureCommand } from '@palisade/config';
import { ClickHouseHandle, ClickHouseUser, startClickHouse } from '@palisade/embedded';

export interface TestClickHouse extends ClickHouseHandle {
  admin: { user: string; password: string };
  /** Runs a statement (as the admin unless told) over HTTP; resolves with the response text. */
  query(statement: string, user?: { user: string; password: string }): Promise<string>;
  /** Stops the server and removes its data. */
  destroy(): Promise<void>;
}

/**
 * A clickhouse-server of this test's own (started on demand, not in the global setup), with an
 * admin user and the given users; installed from Debian with apt-get when missing.
 */
export async function privateClickHouse(users: ClickHouseUser[] = []): Promise<TestClickHouse> {
  const binary = ensureCommand({
    command: 'clickhouse-server',
    debianPackage: 'clickhouse-server',
    purpose: 'the ClickHouse server the audit export tests write to',
  });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-clickhouse-'));
  const admin = { user: 'admin', password: randomBytes(12).toString('hex') };
  const handle = await startClickHouse({
    dataDir,
    binary,
    users: [{ name: admin.user, password: admin.password, role: 'admin' }, ...users],
  });
  const query = async (statement: string, as = admin) => {
    const response = await fetch(`${handle.url}/`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${as.user}:${as.password}`).toString('base64')}` },
      body: statement,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`ClickHouse ${response.status}: ${text.trim()}`);
    return text;
  };
  return {
    ...handle,
    get pid() {
      return handle.pid;
    },
    admin,
    query,
    destroy: async () => {
      await handle.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
