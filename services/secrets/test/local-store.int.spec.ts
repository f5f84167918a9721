import fs from 'node:fs';
import { uniqueId } from '@palisade/testing';
import { sql } from 'kysely';
import { rotateMasterKey } from '../src';
import { SecretsHarness, startSecretsHarness } from './secrets.harness';

describe('the local store: envelopes in Postgres, a 0600 master key file, rotation without downtime', () => {
  let h: SecretsHarness;
  const orgId = uniqueId('org');
  const names = Array.from({ length: 12 }, (_, i) => `KEY_${i}`);

  beforeAll(async () => {
    h = await startSecretsHarness();
    await h.scheduler.workspace(orgId, 'api', names);
  });
  afterAll(async () => {
    await h?.stop();
  });

  async function resolveAll(): Promise<Record<string, string>> {
    const { reply, values } = await h.wakeAndResolve(orgId, 'api', names);
    if (!values) throw new Error(`resolve failed: ${JSON.stringify(reply)}`);
    return values;
  }

  const keyRows = async () =>
    (await sql<{ key_id: string; state: string }>`select key_id, state from local_master_keys`.execute(h.db))
      .rows;
  const valueKeys = async () =>
    (await sql<{ key_id: string }>`select distinct key_id from local_values`.execute(h.db)).rows.map(
      (r) => r.key_id,
    );
  const fileKeys = () =>
    Object.keys((JSON.parse(fs.readFileSync(h.keyFile, 'utf8')) as { keys: object }).keys);

  it('creates the key file 0600 and keeps only ciphertext in Postgres', async () => {
    expect(fs.statSync(h.keyFile).mode & 0o777).toBe(0o600);
    await h.set({ orgId, workspaceId: 'api', name: 'KEY_0' }, 'plain-canary-value');
    const { rows } = await sql<{ row: string }>`select local_values::text as row from local_values`.execute(
      h.db,
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.join('\n')).not.toContain('plain-canary-value');
    expect(rows.join('\n')).not.toContain(Buffer.from('plain-canary-value').toString('hex'));
  });

  it('rotates the master key while sets and resolves keep working, and records secret_key.rotated', async () => {
    // 12 names × 18 versions, re-wrapped 50 at a time.
    const expected: Record<string, string> = {};
    for (let round = 0; round < 18; round++)
      await Promise.all(
        names.map(async (name) => {
          expected[name] = `${name}-v${round}`;
          await h.set({ orgId, workspaceId: 'api', name }, expected[name]);
        }),
      );
    const [before] = await keyRows();
    expect(await valueKeys()).toEqual([before.key_id]);

    let round = 0;
    let last = Promise.resolve();
    /** A set, then a resolve of everything that sees the latest values; one at a time. */
    const serve = () =>
      (last = last.then(async () => {
        const name = names[round++ % names.length];
        expected[name] = `${name}-during-${round}`;
        await h.set({ orgId, workspaceId: 'api', name }, expected[name]);
        expect(await resolveAll()).toEqual(expected);
      }));
    let rotating = true;
    const rotation = rotateMasterKey({
      databaseUrl: h.secretsUrl,
      keyFile: h.keyFile,
      batchSize: 50,
      now: () => Date.now(),
      // Between batches, some data keys are under the old key and some under the new one.
      afterBatch: serve,
    }).finally(() => (rotating = false));
    // And traffic alongside, for as long as the rotation runs.
    const traffic = (async () => {
      while (rotating) await serve();
    })();
    const [result] = await Promise.all([rotation, traffic]);
    expect(round).toBeGreaterThanOrEqual(5);
    expect(result.previousKeyId).toBe(before.key_id);
    expect(result.keyId).not.toBe(before.key_id);
    expect(result.rewrapped).toBeGreaterThanOrEqual(12 * 18);

    expect(await keyRows()).toEqual([{ key_id: result.keyId, state: 'current' }]);
    expect(await valueKeys()).toEqual([result.keyId]);
    expect(fileKeys()).toEqual([result.keyId]);
    expect(fs.statSync(h.keyFile).mode & 0o777).toBe(0o600);
    expect(await resolveAll()).toEqual(expected);
    expect((await h.events('secret_key.rotated')).map((e) => e.data)).toEqual([
      {
        keyId: result.keyId,
        previousKeyId: before.key_id,
        rewrapped: result.rewrapped,
        rotatedAt: expect.any(String),
      },
    ]);

    // A restarted service reads the new key file and serves the same values.
    await h.restart();
    expect(await resolveAll()).toEqual(expected);
  });

  it('refuses to start with a key file others can read, a different key, or none while values exist', async () => {
    const good = fs.readFileSync(h.keyFile);
    await h.running.stop();
    fs.chmodSync(h.keyFile, 0o644);
    await expect(h.restart()).rejects.toThrow(`run chmod 600 ${h.keyFile}`);
    fs.chmodSync(h.keyFile, 0o600);

    const [{ key_id }] = await keyRows();
    const other = {
      format: 'palisade-local-master-keys/1',
      current: key_id,
      keys: { [key_id]: Buffer.alloc(32, 7).toString('base64') },
    };
    fs.writeFileSync(h.keyFile, JSON.stringify(other), { mode: 0o600 });
    await expect(h.restart()).rejects.toThrow(`holds another key under the id ${key_id}`);

    fs.rmSync(h.keyFile);
    await expect(h.restart()).rejects.toThrow('is missing, and stored values are encrypted under');

    fs.writeFileSync(h.keyFile, good, { mode: 0o600 });
    await h.restart();
    expect(Object.keys(await resolveAll())).toEqual(names);
  });
});
