import { createHash } from 'node:crypto';
import path from 'node:path';
import { ensureCommand } from '@palisade/config';
import { ping } from '@palisade/embedded';

/** What `palisade dev` gives placement as its one host, and the line it prints about it. */
export interface DevEngine {
  env: Record<string, string>;
  line: string;
}

/** Room a local engine's folder leaves for containerd's deepest socket (`/local-xxxxxx/run/containerd/containerd.sock.ttrpc`). */
const SOCKET_SUFFIX = 60;

/**
 * The development host: the user's own Docker engine (DOCKER_HOST as unix://, or
 * /var/run/docker.sock) when one answers; else one engine of placement's local provider (dockerd
 * installed with apt-get when missing: a MissingDependencyError says how otherwise); none with
 * --no-engine.
 */
export async function chooseDevEngine(
  home: string,
  wanted: boolean,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DevEngine> {
  if (!wanted) return { env: {}, line: 'none (--no-engine): workspaces cannot wake' };
  const own = env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  if (own.startsWith('unix://') && (await ping(own.slice('unix://'.length))))
    return { env: { PLACEMENT_DEV_ENGINE: own }, line: `your Docker engine at ${own} (the one host)` };
  ensureCommand({
    command: 'dockerd',
    debianPackage: 'docker.io',
    purpose: 'the Docker engine that runs workspaces in dev (or pass --no-engine)',
  });
  const short = path.join(
    '/tmp',
    `palisade-engines-${createHash('sha256').update(home).digest('hex').slice(0, 8)}`,
  );
  const inHome = path.join(home, 'engines');
  const dir = Buffer.byteLength(inHome) + SOCKET_SUFFIX <= 107 ? inHome : short;
  return {
    env: { PLACEMENT_DEV_ENGINE: 'local', PLACEMENT_LOCAL_DIR: dir },
    line: `a Docker engine of its own (no engine answered at ${own}), data in ${dir}`,
  };
}
