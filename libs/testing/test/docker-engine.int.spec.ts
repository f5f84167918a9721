import { ping } from '@palisade/embedded';
import { startTestEngine, TEST_APP_COMMAND, TEST_APP_IMAGE, TestEngine } from '../src/docker';
import { waitFor } from '../src/wait-for';
import fs from 'node:fs';
import type Docker from 'dockerode';

/** Command lines of live processes that name a folder (an engine's daemons and shims). */
function processesMentioning(dir: string): string[] {
  return fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      try {
        const cmdline = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8');
        const state = fs.readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]?.[0];
        return cmdline.includes(dir) && state !== 'Z' ? [cmdline.replace(/\0/g, ' ')] : [];
      } catch {
        return [];
      }
    });
}

/** Runs a command in a running container and returns what it printed. */
async function exec(container: Docker.Container, cmd: string[]): Promise<string> {
  const run = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await run.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise((resolve) => stream.on('end', resolve));
  // The multiplexed stream: an 8-byte header per frame, then the frame's bytes.
  const raw = Buffer.concat(chunks);
  const out: Buffer[] = [];
  for (let at = 0; at + 8 <= raw.length;) {
    const size = raw.readUInt32BE(at + 4);
    out.push(raw.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(out).toString('utf8');
}

describe('test Docker engines', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine();
  }, 120_000);
  afterAll(async () => engine?.stop());

  it('run the test image hardened (uid 1001, no capabilities, read-only, no network) and serve its web port inside', async () => {
    const container = await engine.docker.createContainer({
      Image: TEST_APP_IMAGE,
      Cmd: TEST_APP_COMMAND,
      User: '1001:1001',
      Env: ['PALISADE_SERVICE=web', 'SET_ONE=1'],
      HostConfig: {
        NetworkMode: 'none',
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        ReadonlyRootfs: true,
        Tmpfs: { '/tmp': 'rw,noexec,nosuid,size=16m' },
        PidsLimit: 64,
        Memory: 64 * 1024 * 1024,
        Ulimits: [
          { Name: 'nofile', Soft: 1024, Hard: 1024 },
          { Name: 'nproc', Soft: 64, Hard: 64 },
        ],
      },
    });
    await container.start();
    try {
      const status = await waitFor(
        async () => {
          const out = await exec(container, [
            'wget',
            '-qO-',
            'http://127.0.0.1:8080/api/status?env=SET_ONE,UNSET',
          ]);
          return out.includes('"service"') && out;
        },
        { description: 'the webapp to answer inside its container' },
      );
      expect(JSON.parse(status)).toMatchObject({
        service: 'web',
        uid: 1001,
        env: { SET_ONE: true, UNSET: false },
      });
      expect(await exec(container, ['sh', '-c', 'touch /x 2>&1 || echo read-only'])).toContain('read-only');
      const inspected = await container.inspect();
      expect(inspected.HostConfig.CapDrop).toEqual(['ALL']);
      expect(inspected.NetworkSettings.Networks).toHaveProperty('none');
    } finally {
      await container.remove({ force: true });
    }
  });

  it('a killed engine stops answering, and leaves no process behind (containerd, shims, containers)', async () => {
    const second = await startTestEngine();
    const container = await second.docker.createContainer({
      Image: TEST_APP_IMAGE,
      Cmd: TEST_APP_COMMAND,
      User: '1001:1001',
      HostConfig: { NetworkMode: 'none' },
    });
    await container.start();
    expect(await ping(second.socketPath)).toBe(true);
    await second.kill();
    expect(await ping(second.socketPath)).toBe(false);
    expect(processesMentioning(second.dir)).toEqual([]);
  }, 60_000);
});
