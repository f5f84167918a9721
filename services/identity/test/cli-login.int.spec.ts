import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '@palisade/testing';
import { client, errorCode, IdentityHarness, startIdentityHarness } from './identity.fixture';

const bin = path.resolve(__dirname, '..', '..', '..', 'cli', 'bin', 'palisade.js');

/** Runs `palisade ...args` with its own config folder; resolves with the exit code and output. */
function palisade(
  args: string[],
  configDir: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, PALISADE_CONFIG_DIR: configDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('palisade login / whoami / logout', () => {
  let harness: IdentityHarness;
  let configDir: string;

  beforeAll(async () => {
    harness = await startIdentityHarness({ IDENTITY_AUTH_RATE_LIMIT_PER_MINUTE: '1000' });
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-cli-'));
  });

  afterAll(async () => {
    await harness?.stop();
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  it('signs in with the bootstrap file, keeps tokens in a 0600 file, answers whoami, and logs out everywhere', async () => {
    const login = await palisade(
      ['login', '--url', harness.identity.url, '--bootstrap-file', harness.bootstrapFile],
      configDir,
    );
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    const file = path.join(configDir, 'credentials.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { accessToken: string; refreshToken: string };
    const { password } = JSON.parse(fs.readFileSync(harness.bootstrapFile, 'utf8')) as { password: string };
    expect(fs.readFileSync(file, 'utf8')).not.toContain(password);
    expect(login.stdout).not.toContain(stored.accessToken);

    const whoami = await palisade(['whoami'], configDir);
    expect(whoami.code).toBe(0);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ kind: 'user' });

    // An access token about to expire is refreshed (and the refresh token rotated) on the way.
    fs.writeFileSync(file, JSON.stringify({ ...stored, accessExpiresAt: Date.now() }), { mode: 0o600 });
    expect((await palisade(['whoami'], configDir)).code).toBe(0);
    const refreshed = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      refreshToken: string;
      accessToken: string;
    };
    expect(refreshed.refreshToken).not.toBe(stored.refreshToken);

    const logout = await palisade(['logout'], configDir);
    expect(logout.code).toBe(0);
    expect(fs.existsSync(file)).toBe(false);
    await waitFor(
      async () =>
        errorCode((await client(harness.identity.url).get('/v1/auth/whoami', refreshed.accessToken)).body) ===
        'session_revoked',
      { description: 'the logged-out session being refused' },
    );
    const after = await palisade(['whoami'], configDir);
    expect(after.code).toBe(2);
    expect(after.stderr).toContain('not signed in');
  });

  it('refuses a wrong credential with a clear message and stores nothing', async () => {
    const bad = path.join(configDir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ username: 'admin', password: 'not-the-password' }), {
      mode: 0o600,
    });
    const login = await palisade(
      ['login', '--url', harness.identity.url, '--bootstrap-file', bad],
      configDir,
    );
    expect(login.code).toBe(1);
    expect(login.stderr).toContain('invalid_credentials');
    expect(login.stderr).not.toContain('not-the-password');
    expect(fs.existsSync(path.join(configDir, 'credentials.json'))).toBe(false);
    expect((await palisade(['login', '--bootstrap-file', bad], configDir)).code).toBe(2);
  });
});
