import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureCommand, findCommand, MissingDependencyError } from './system-packages';

/** A program Palisade installs with `go install` at a pinned version. */
export interface GoTool {
  command: string;
  /** The package given to `go install`, without the version. */
  module: string;
  /** The pinned version, e.g. v2.15.3. */
  version: string;
  /** What it is for, in a few words (shown in messages). */
  purpose: string;
  /** Arguments that make the program print its version. */
  versionArgs: readonly string[];
  /** `-ldflags` of the project's own release build that `go install` would otherwise leave out. */
  ldflags?: string;
  /** The Debian package used instead where Go is missing (its version is Debian's, not the pin). */
  debianPackage?: string;
}

/** The NATS JetStream broker (Debian's fallback is 2.9.10, from 2022). */
export const NATS_SERVER_TOOL: GoTool = {
  command: 'nats-server',
  module: 'github.com/nats-io/nats-server/v2',
  version: 'v2.15.3',
  purpose: 'the NATS JetStream broker',
  versionArgs: ['--version'],
  debianPackage: 'nats-server',
};

/**
 * Helm 3. Its release build stamps the version and the Kubernetes version it was built against
 * (what `.Capabilities.KubeVersion` and the deprecation lint assume, from the client-go it
 * depends on: v0.36 → 1.36); `go install` alone would report "v3.21" and Kubernetes 1.20.
 */
export const HELM_TOOL: GoTool = {
  command: 'helm',
  module: 'helm.sh/helm/v3/cmd/helm',
  version: 'v3.21.4',
  purpose: 'the Kubernetes package manager (renders and lints the chart)',
  versionArgs: ['version', '--template', '{{.Version}}'],
  ldflags: [
    '-X helm.sh/helm/v3/internal/version.version=v3.21.4',
    '-X helm.sh/helm/v3/internal/version.metadata=',
    '-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1',
    '-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=36',
    '-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1',
    '-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=36',
  ].join(' '),
};

/** The NATS command-line client (streams, consumers, permissions checks). */
export const NATS_CLI_TOOL: GoTool = {
  command: 'nats',
  module: 'github.com/nats-io/natscli/nats',
  version: 'v0.5.0',
  purpose: 'the NATS command-line client',
  versionArgs: ['--version'],
};

/** Where a tool came from and which version it is; `describe()` is the line to print at start-up. */
export interface InstalledTool {
  path: string;
  /** The version the program reports (e.g. v2.15.3, or 2.9.10 from Debian). */
  version: string;
  /** `go`: the pinned build; `debian`: apt's package where Go is missing; `override`: a path the caller chose. */
  source: 'go' | 'debian' | 'override';
  describe(): string;
}

export interface EnsureGoToolOptions {
  /** Where pinned builds live (default $PALISADE_TOOLS_DIR, else ~/.cache/palisade/bin). */
  toolsDir?: string;
  /** Use this binary instead of the pinned one (benchmarks comparing versions). */
  override?: string;
  /** Search path for `go` and for the Debian fallback (default: PATH plus the sbin folders). */
  searchPath?: string;
  /** Allow the Debian fallback's apt-get install (default true). */
  allowApt?: boolean;
  /** Progress notes (default: stderr). */
  note?: (line: string) => void;
}

const checked = new Map<string, string>();

/** The default folder of pinned tools: $PALISADE_TOOLS_DIR, else $XDG_CACHE_HOME (or ~/.cache)/palisade/bin. */
export function defaultToolsDir(): string {
  if (process.env.PALISADE_TOOLS_DIR) return path.resolve(process.env.PALISADE_TOOLS_DIR);
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'palisade', 'bin');
}

/** Where the pinned build of a tool lives: `<toolsDir>/<command>@<version>/<command>`. */
export function pinnedToolPath(tool: GoTool, toolsDir = defaultToolsDir()): string {
  return path.join(toolsDir, `${tool.command}@${tool.version}`, tool.command);
}

/**
 * Returns the pinned build of a Go program: the one in the tools folder when it reports the
 * pinned version, else built there with `go install <module>@<version>`. Where Go is missing
 * (or `go install` fails) and the tool has a Debian package, that package (through
 * `ensureCommand`) is used instead, and the note says so. Throws a MissingDependencyError that
 * says what to install when neither works.
 */
export function ensureGoTool(tool: GoTool, options: EnsureGoToolOptions = {}): InstalledTool {
  const note = options.note ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (options.override) {
    const version = reportedVersion(tool, options.override);
    return installed(tool, options.override, version ?? 'unknown version', 'override');
  }
  const target = pinnedToolPath(tool, options.toolsDir);
  if (hasPinnedVersion(tool, target)) return installed(tool, target, tool.version, 'go');
  const go = findCommand('go', options.searchPath);
  let failure: string;
  if (go) {
    note(
      `installing ${tool.command} ${tool.version} (${tool.purpose}) with go install into ${path.dirname(target)}…`,
    );
    const result = goInstall(go, tool, target);
    if (result.ok && hasPinnedVersion(tool, target)) return installed(tool, target, tool.version, 'go');
    failure = result.ok
      ? `go install built ${target}, but it does not report version ${tool.version}`
      : `go install ${tool.module}@${tool.version} failed: ${result.output}`;
  } else {
    failure = 'Go is not installed';
  }
  if (!tool.debianPackage) {
    throw new MissingDependencyError(
      tool.command,
      `${tool.command} ${tool.version} (${tool.purpose}) could not be installed: ${failure}.\n` +
        `Install Go (https://go.dev/dl, or sudo apt-get install -y golang-go) and run the command again, ` +
        `or install it yourself with:  GOBIN=${path.dirname(target)} go install ${tool.module}@${tool.version}`,
    );
  }
  const fallback = ensureCommand({
    command: tool.command,
    debianPackage: tool.debianPackage,
    purpose: tool.purpose,
    allowApt: options.allowApt,
    searchPath: options.searchPath,
    note,
    manualInstall: `install Go and run the command again (Palisade then builds ${tool.command} ${tool.version} itself)`,
  });
  const version = reportedVersion(tool, fallback) ?? 'unknown version';
  note(`${tool.command}: using Debian's ${version} instead of the pinned ${tool.version} (${failure})`);
  return installed(tool, fallback, version, 'debian');
}

/** The version a program reports with the tool's version arguments (e.g. "v2.15.3", "v2.9.10"). */
function reportedVersion(tool: GoTool, binary: string): string | undefined {
  const result = spawnSync(binary, [...tool.versionArgs], { encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) return undefined;
  return /v?\d+\.\d+(\.\d+)?([-+][\w.-]+)?/.exec(`${result.stdout}${result.stderr}`)?.[0];
}

function hasPinnedVersion(tool: GoTool, binary: string): boolean {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(binary);
  } catch {
    return false;
  }
  const key = `${binary}:${stat.mtimeMs}:${stat.size}`;
  if (!checked.has(key)) checked.set(key, reportedVersion(tool, binary) ?? '');
  return samePin(checked.get(key)!, tool.version);
}

/** Whether a reported version is the pin ("2.15.3" and "v2.15.3" are; "v2.15.30" and "v3.21" are not). */
export function samePin(reported: string, pinned: string): boolean {
  const bare = (v: string) => v.trim().replace(/^v/, '');
  return reported !== '' && bare(reported) === bare(pinned);
}

/** Builds into a fresh folder beside the target, then renames: a reader never sees half a binary. */
function goInstall(go: string, tool: GoTool, target: string): { ok: boolean; output: string } {
  const dir = path.dirname(target);
  fs.mkdirSync(dir, { recursive: true });
  const gobin = fs.mkdtempSync(path.join(dir, '.install-'));
  try {
    const args = [
      'install',
      ...(tool.ldflags ? ['-ldflags', tool.ldflags] : []),
      `${tool.module}@${tool.version}`,
    ];
    const result = spawnSync(go, args, {
      encoding: 'utf8',
      env: { ...process.env, GOBIN: gobin },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 15 * 60_000,
    });
    const output =
      `${result.stderr ?? ''}${result.stdout ?? ''}`.trim() || String(result.error?.message ?? '');
    if (result.status !== 0)
      return { ok: false, output: output.split('\n').slice(-6).join(' ').slice(0, 800) };
    fs.renameSync(path.join(gobin, tool.command), target);
    return { ok: true, output };
  } finally {
    fs.rmSync(gobin, { recursive: true, force: true });
  }
}

function installed(
  tool: GoTool,
  binary: string,
  version: string,
  source: InstalledTool['source'],
): InstalledTool {
  const how =
    source === 'go'
      ? `pinned, built with go install`
      : source === 'debian'
        ? `Debian's package, used because the pinned ${tool.version} could not be built here`
        : 'chosen by the caller';
  return { path: binary, version, source, describe: () => `${tool.command} ${version} (${how}: ${binary})` };
}
