import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { COMPOSE_NATS_CONFIG, composeNatsConfig, natsPasswordVariable } from '../src/deploy-files';
import { targetNames } from '../src/targets';

const root = path.resolve(__dirname, '..', '..');
const run = promisify(execFile);

describe('deployment files', () => {
  it('commits the NATS configuration that the permissions generate (npm run deploy:generate)', () => {
    expect(fs.readFileSync(path.join(root, COMPOSE_NATS_CONFIG), 'utf8')).toBe(composeNatsConfig());
  });

  it('gives nats-server a configuration it accepts, and one it refuses without a password', async () => {
    const passwords = Object.fromEntries(targetNames().map((n) => [natsPasswordVariable(n), `pw-${n}`]));
    const file = path.join(root, COMPOSE_NATS_CONFIG);
    const ok = await run('nats-server', ['-t', '-c', file], { env: { ...process.env, ...passwords } });
    expect(`${ok.stdout}${ok.stderr}`).toMatch(/is valid/);
    const { AUDIT_NATS_PASSWORD: _missing, ...withoutAudit } = passwords;
    const scrubbed = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.endsWith('_NATS_PASSWORD')),
    );
    await expect(
      run('nats-server', ['-t', '-c', file], { env: { ...scrubbed, ...withoutAudit } }),
    ).rejects.toThrow(/AUDIT_NATS_PASSWORD/);
  });
});
