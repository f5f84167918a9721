import fs from 'node:fs';
import path from 'node:path';
import { parseEngineUrl } from '@palisade/contracts';
import Docker from 'dockerode';
import { describeLeftovers, EngineInventory, leftovers } from '../domain/inventory';
import type { EngineBaseline } from '@palisade/contracts';

/** The engine did not answer (or answered with an error): `message` says what happened, never more. */
export class EngineUnreachableError extends Error {
  readonly code = 'engine_unreachable';
}

/** Networks every engine has and that cannot be removed. */
const PREDEFINED_NETWORKS = new Set(['bridge', 'host', 'none']);

export interface EngineConnectOptions {
  /** Folder with `<host>/ca.pem`, `cert.pem` and `key.pem` for tcp+tls:// engines. */
  tlsDir?: string;
  /** Per-request timeout (ms). */
  timeoutMs?: number;
}

/** What went wrong, in a sentence without internals. */
function describe(error: unknown): string {
  const e = error as { code?: string; statusCode?: number; message?: string; json?: { message?: string } };
  if (e?.code === 'ENOENT') return 'no engine listens on that socket';
  if (e?.code === 'ECONNREFUSED') return 'the engine refused the connection';
  if (e?.code === 'EACCES') return 'no permission to use that socket';
  if (e?.code === 'ETIMEDOUT' || /timeout/i.test(e?.message ?? ''))
    return 'the engine did not answer in time';
  if (e?.statusCode) return `the engine answered ${e.statusCode}: ${(e.json?.message ?? '').slice(0, 200)}`;
  return (e?.message ?? String(error)).slice(0, 200);
}

/**
 * One host's Docker engine through dockerode: ping, list everything, wipe. A unix:// engine is
 * reached through its socket; a tcp+tls:// engine with the client certificate kept for its
 * host name under `tlsDir` (configured per host by reference, never sent in a request).
 */
export class EngineClient {
  readonly docker: Docker;

  constructor(
    readonly url: string,
    options: EngineConnectOptions = {},
  ) {
    const address = parseEngineUrl(url);
    if ('error' in address) throw new EngineUnreachableError(address.error);
    const timeout = options.timeoutMs ?? 10_000;
    if (address.kind === 'unix') {
      this.docker = new Docker({ socketPath: address.socketPath, timeout });
      return;
    }
    const host = address.host.replace(/^\[|\]$/g, '');
    const folder = options.tlsDir && path.join(options.tlsDir, host);
    const read = (name: string) => {
      const file = folder && path.join(folder, name);
      if (!file || !fs.existsSync(file))
        throw new EngineUnreachableError(
          `no client certificate for ${host}: put ca.pem, cert.pem and key.pem in PLACEMENT_ENGINE_TLS_DIR/${host}/`,
        );
      return fs.readFileSync(file);
    };
    this.docker = new Docker({
      host,
      port: address.port,
      protocol: 'https',
      ca: read('ca.pem'),
      cert: read('cert.pem'),
      key: read('key.pem'),
      timeout,
    });
  }

  /** Resolves when the engine answers `/_ping`; throws EngineUnreachableError otherwise. */
  async ping(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (error) {
      throw new EngineUnreachableError(describe(error));
    }
  }

  /** Everything the engine holds: containers (running or not), volumes, networks, images. */
  async inventory(): Promise<EngineInventory> {
    try {
      const [containers, volumes, networks, images] = await Promise.all([
        this.docker.listContainers({ all: true }),
        this.docker.listVolumes(),
        this.docker.listNetworks(),
        this.docker.listImages({ all: false }),
      ]);
      return {
        containers: containers.map((c) => ({
          id: c.Id,
          name: c.Names?.[0]?.replace(/^\//, ''),
          labels: c.Labels ?? {},
        })),
        volumes: (volumes.Volumes ?? []).map((v) => ({ name: v.Name, labels: v.Labels ?? {} })),
        networks: networks.map((n) => ({ id: n.Id, name: n.Name })),
        images: images.map((i) => ({ id: i.Id })),
      };
    } catch (error) {
      throw new EngineUnreachableError(describe(error));
    }
  }

  /**
   * Removes everything beyond the baseline (containers with their anonymous volumes, then
   * volumes, networks and images), then lists the engine again. Returns what was removed and
   * what is still there (nothing, when the wipe worked).
   */
  async wipe(baseline: EngineBaseline) {
    const left = leftovers(await this.inventory(), baseline);
    const removed = { containers: 0, volumes: 0, networks: 0, images: 0 };
    const failures: string[] = [];
    const attempt = async (what: keyof typeof removed, remove: () => Promise<unknown>) => {
      try {
        await remove();
        removed[what]++;
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 404) return;
        failures.push(`${what.slice(0, -1)}: ${describe(error)}`);
      }
    };
    for (const c of left.containers)
      await attempt('containers', () => this.docker.getContainer(c.id).remove({ force: true, v: true }));
    for (const v of left.volumes)
      await attempt('volumes', () => this.docker.getVolume(v.name).remove({ force: true }));
    for (const n of left.networks)
      if (!PREDEFINED_NETWORKS.has(n.name))
        await attempt('networks', () => this.docker.getNetwork(n.id).remove());
    for (const i of left.images)
      await attempt('images', () => this.docker.getImage(i.id).remove({ force: true, noprune: false }));
    const after = leftovers(await this.inventory(), baseline);
    const remaining = {
      containers: after.containers,
      volumes: after.volumes,
      networks: after.networks.filter((n) => !PREDEFINED_NETWORKS.has(n.name)),
      images: after.images,
    };
    return { removed, remaining, describeRemaining: describeLeftovers(remaining), failures };
  }
}
