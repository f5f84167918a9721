import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { COMPOSE_NATS_CONFIG, composeNatsConfig, natsPasswordVariable } from '../src/deploy-files';
import { targetNames } from '../src/targets';

const root = path.resolve(__dirname, '..', '..');
const run = promisify(execFile);

interface ComposeService {
  user?: string;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
}

describe('deployment files', () => {
  const compose = parse(fs.readFileSync(path.join(root, 'compose/docker-compose.yml'), 'utf8'), {
    merge: true,
  }) as { services: Record<string, ComposeService> };

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

  it('runs every service in compose, hardened, with its own NATS user and no default password', () => {
    for (const name of targetNames()) {
      const service = compose.services[name];
      expect(service).toBeDefined();
      expect(service.command).toEqual(['serve', '--target', name]);
      expect(service.user).toMatch(/^[1-9]\d{3,}:[1-9]\d{3,}$/);
      expect(service.read_only).toBe(true);
      expect(service.cap_drop).toEqual(['ALL']);
      expect(service.security_opt).toContain('no-new-privileges:true');
      expect(service.environment?.NATS_USER).toBe(name);
      expect(service.environment?.NATS_PASSWORD).toBe(
        `\${${natsPasswordVariable(name)}:?set ${natsPasswordVariable(name)}}`,
      );
      for (const port of service.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
    }
    // Every secret in the file is required from the environment: none has a default.
    const text = fs.readFileSync(path.join(root, 'compose/docker-compose.yml'), 'utf8');
    for (const [, variable, operator] of text.matchAll(/\$\{([A-Z_]+)(:[?-])?/g))
      if (/PASSWORD|SECRET|TOKEN/.test(variable))
        expect({ variable, operator }).toEqual({ variable, operator: ':?' });
  });
});
