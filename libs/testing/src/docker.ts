import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { readTestState, STATE_ENV } from './test-state';
import { ensureCommand } from '@palisade/config';
import { DockerEngineHandle, reapShims, startDockerEngine, unmountUnder } from '@palisade/embedded';
import Docker from 'dockerode';

/** The image every runtime test runs: busybox plus the webapp of libs/testing/webapp. */
export const TEST_APP_IMAGE = 'palisade-test/webapp:1';
/** Where the webapp binary sits inside the image, and the port it serves by default. */
export const TEST_APP_COMMAND = ['/app/webapp'];
export const TEST_APP_PORT = 8080;

const WEBAPP_SOURCE = path.join(__dirname, '..', 'webapp');
const BUSYBOX_APPLETS = [
  'sh',
  'nc',
  'env',
  'id',
  'cat',
  'ls',
  'sleep',
  'echo',
  'ps',
  'kill',
  'wget',
  'touch',
];

export interface TestEngine extends DockerEngineHandle {
  docker: Docker;
}

/**
 * A Docker engine of this test's own (a real dockerd in a fresh folder), with the test image
 * imported. Stop it in afterAll; `kill()` plays a crashed host.
 */
export async function startTestEngine(options: { image?: boolean } = {}): Promise<TestEngine> {
  const binary = ensureCommand({
    command: 'dockerd',
    debianPackage: 'docker.io',
    purpose: 'the Docker engine that runs workspace runtimes in tests',
  });
  // Short: containerd's socket paths live under it.
  const dir = fs.mkdtempSync(path.join('/tmp', 'pe-'));
  const registry = engineRegistry();
  if (registry) fs.writeFileSync(path.join(registry, path.basename(dir)), dir);
  const engine = await startDockerEngine({ dir, binary });
  const docker = new Docker({ socketPath: engine.socketPath });
  const stop = async (how: 'stop' | 'kill') => {
    await engine[how]();
    fs.rmSync(dir, { recursive: true, force: true });
    if (registry) fs.rmSync(path.join(registry, path.basename(dir)), { force: true });
  };
  const handle: TestEngine = { ...engine, docker, stop: () => stop('stop'), kill: () => stop('kill') };
  try {
    if (options.image ?? true) await importTestImage(docker);
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}

/** Imports the test image into an engine (a rootfs tar through `docker import`; there is no registry). */
export async function importTestImage(docker: Docker, tag = TEST_APP_IMAGE): Promise<void> {
  const tar = await testImageTar();
  const [repo, version] = tag.split(':');
  const stream = await docker.importImage(tar, { repo, tag: version });
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve())),
  );
}

/**
 * The test image's rootfs as a tar file (cached per source): a static busybox with a few
 * applets, the webapp at /app/webapp, a user `app` (1001:1001) and an empty /tmp.
 */
export async function testImageTar(): Promise<string> {
  const webapp = await buildTestWebapp();
  const busybox = staticBusybox();
  const key = createHash('sha256')
    .update(fs.readFileSync(webapp))
    .update(fs.readFileSync(busybox))
    .digest('hex');
  const tarFile = path.join(os.tmpdir(), `palisade-test-image-${key.slice(0, 16)}.tar`);
  if (fs.existsSync(tarFile)) return tarFile;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-rootfs-'));
  try {
    for (const dir of ['bin', 'app', 'etc', 'tmp', 'data']) fs.mkdirSync(path.join(root, dir));
    fs.chmodSync(path.join(root, 'tmp'), 0o1777);
    fs.copyFileSync(busybox, path.join(root, 'bin', 'busybox'));
    fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
    for (const applet of BUSYBOX_APPLETS) fs.symlinkSync('busybox', path.join(root, 'bin', applet));
    fs.copyFileSync(webapp, path.join(root, 'app', 'webapp'));
    fs.chmodSync(path.join(root, 'app', 'webapp'), 0o755);
    fs.writeFileSync(
      path.join(root, 'etc', 'passwd'),
      'root:x:0:0::/root:/bin/sh\napp:x:1001:1001::/tmp:/bin/sh\n',
    );
    fs.writeFileSync(path.join(root, 'etc', 'group'), 'root:x:0:\napp:x:1001:\n');
    const partial = `${tarFile}.${process.pid}.${randomBytes(4).toString('hex')}`;
    const tar = spawnSync('tar', ['-C', root, '--owner=0', '--group=0', '-cf', partial, '.'], {
      encoding: 'utf8',
    });
    if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
    fs.renameSync(partial, tarFile);
    return tarFile;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Builds libs/testing/webapp (Go, standard library only, no cgo: one static binary) into a
 * cache file named by the source's hash; the Go build cache makes a rebuild cheap. Global setup
 * calls it once per run so that workers find it built.
 */
export async function buildTestWebapp(): Promise<string> {
  const go = ensureCommand({
    command: 'go',
    debianPackage: 'golang-go',
    purpose: 'building the web application the runtime tests run',
  });
  const hash = createHash('sha256');
  for (const file of fs.readdirSync(WEBAPP_SOURCE).sort())
    hash.update(file).update(fs.readFileSync(path.join(WEBAPP_SOURCE, file)));
  const binary = path.join(os.tmpdir(), `palisade-webapp-${hash.digest('hex').slice(0, 16)}`);
  if (fs.existsSync(binary)) return binary;
  const partial = `${binary}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await promisify(execFile)(go, ['build', '-trimpath', '-ldflags=-s -w', '-o', partial, '.'], {
      cwd: WEBAPP_SOURCE,
      env: { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local' },
    });
  } catch (error) {
    throw new Error(`building the test webapp failed: ${(error as { stderr?: string }).stderr ?? error}`);
  }
  fs.renameSync(partial, binary);
  return binary;
}

/** A statically linked busybox (a dynamic one cannot run in a rootfs of its own). */
function staticBusybox(): string {
  const busybox = ensureCommand({
    command: 'busybox',
    debianPackage: 'busybox-static',
    purpose: 'the shell and tools inside the test image',
  });
  if (hasInterpreter(busybox))
    throw new Error(
      `${busybox} is dynamically linked; the test image needs a static one: sudo apt-get install -y busybox-static`,
    );
  return busybox;
}

/** Whether an ELF file asks for a dynamic loader (has a PT_INTERP program header). */
function hasInterpreter(file: string): boolean {
  const elf = fs.readFileSync(file);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) throw new Error(`${file} is not a 64-bit ELF file`);
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (elf.readUInt32LE(phoff + i * phentsize) === 3) return true;
  return false;
}

/** Where this jest run lists the engines its tests started (undefined outside jest's global setup). */
function engineRegistry(): string | undefined {
  if (!process.env[STATE_ENV]) return undefined;
  const registry = path.join(readTestState().tempDir, 'engines');
  fs.mkdirSync(registry, { recursive: true });
  return registry;
}

/**
 * Ends every engine a test of this run started and did not stop (a worker that crashed or timed
 * out): the global teardown calls it, so no dockerd, shim or container outlives the run.
 */
export function stopLeftoverEngines(): void {
  const registry = engineRegistry();
  if (!registry) return;
  for (const name of fs.readdirSync(registry)) {
    const dir = fs.readFileSync(path.join(registry, name), 'utf8');
    const pidFile = path.join(dir, 'docker.pid');
    const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').trim()) : 0;
    if (pid > 0) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone already */
        }
      }
    }
    spawnSync('pkill', ['-KILL', '-f', `${dir}/run/containerd/containerd.toml`]);
    reapShims(dir);
    unmountUnder(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
