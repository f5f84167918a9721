import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findCommand } from '@palisade/config';

/**
 * Pinned tools built from the Go module proxy into a cache folder of their own
 * ($PALISADE_TOOLS_DIR, default ~/.cache/palisade/tools), once per machine. Only the tests use
 * them; a shared `ensureGoTool` in libs/config is meant to replace this file.
 */
const toolsDir = () =>
  process.env.PALISADE_TOOLS_DIR ?? path.join(os.homedir(), '.cache', 'palisade', 'tools');

function goBinary(purpose: string): string {
  const go = findCommand('go', [process.env.PATH ?? '', '/usr/local/go/bin'].join(path.delimiter));
  if (!go)
    throw new Error(
      `${purpose} is built with Go from the Go module proxy, and this machine has no go command`,
    );
  return go;
}

/** Builds once into `<toolsDir>/<name>-<version>/<name>` (atomically: parallel workers may race). */
function ensureBuilt(name: string, version: string, build: (go: string, output: string) => void): string {
  const target = path.join(toolsDir(), `${name}-${version}`, name);
  if (fs.existsSync(target)) return target;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const partial = `${target}.${process.pid}.partial`;
  build(goBinary(`${name} ${version}`), partial);
  fs.renameSync(partial, target);
  return target;
}

const goEnv = () => ({ ...process.env, GOFLAGS: '-buildvcs=false' });

/** helm v3.21.4: `go install helm.sh/helm/v3/cmd/helm@v3.21.4`. */
export function ensureHelm(): string {
  const version = 'v3.21.4';
  return ensureBuilt('helm', version, (go, output) => {
    const bin = fs.mkdtempSync(path.join(path.dirname(output), 'gobin-'));
    execFileSync(go, ['install', `helm.sh/helm/v3/cmd/helm@${version}`], {
      env: { ...goEnv(), GOBIN: bin },
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 15 * 60_000,
    });
    fs.renameSync(path.join(bin, 'helm'), output);
    fs.rmSync(bin, { recursive: true, force: true });
  });
}

/**
 * Docker Compose v5.6.0 (the `docker compose` plugin, runnable on its own). Its go.mod has
 * exclude directives, which `go install pkg@version` refuses, so it is built inside the
 * downloaded module, as its own Makefile does.
 */
export function ensureDockerCompose(): string {
  const version = 'v5.6.0';
  return ensureBuilt('docker-compose', version, (go, output) => {
    const info = JSON.parse(
      execFileSync(go, ['mod', 'download', '-json', `github.com/docker/compose/v5@${version}`], {
        env: goEnv(),
        encoding: 'utf8',
        timeout: 15 * 60_000,
      }),
    ) as { Dir: string };
    execFileSync(go, ['build', '-trimpath', '-o', output, './cmd'], {
      cwd: info.Dir,
      env: goEnv(),
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 15 * 60_000,
    });
  });
}
