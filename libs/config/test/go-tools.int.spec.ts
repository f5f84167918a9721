import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ensureGoTool,
  findCommand,
  MissingDependencyError,
  NATS_CLI_TOOL,
  NATS_SERVER_TOOL,
  pinnedToolPath,
  samePin,
} from '../src';

describe('ensureGoTool: pinned Go programs', () => {
  let toolsDir: string;
  const notes: string[] = [];
  const note = (line: string) => notes.push(line);

  beforeEach(() => {
    toolsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-tools-'));
    notes.length = 0;
  });
  afterEach(() => fs.rmSync(toolsDir, { recursive: true, force: true }));

  it('compares versions exactly, with or without the v', () => {
    expect(samePin('2.15.3', 'v2.15.3')).toBe(true);
    expect(samePin('v2.15.3', 'v2.15.3')).toBe(true);
    expect(samePin('v2.15.30', 'v2.15.3')).toBe(false);
    expect(samePin('v3.21', 'v3.21.4')).toBe(false);
    expect(samePin('', 'v0.5.0')).toBe(false);
  });

  it('replaces a binary that reports another version with the pinned build', () => {
    const target = pinnedToolPath(NATS_SERVER_TOOL, toolsDir);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, '#!/bin/sh\necho "nats-server: v2.9.10"\n', { mode: 0o755 });
    const tool = ensureGoTool(NATS_SERVER_TOOL, { toolsDir, note });
    expect(tool).toMatchObject({ path: target, version: 'v2.15.3', source: 'go' });
    expect(notes.join('\n')).toContain('go install');
    expect(tool.describe()).toContain('nats-server v2.15.3 (pinned');
    // A second call finds it in place and builds nothing.
    notes.length = 0;
    expect(ensureGoTool(NATS_SERVER_TOOL, { toolsDir, note }).path).toBe(target);
    expect(notes).toEqual([]);
  });

  it('without Go and without a Debian package, says how to install it', () => {
    const emptyPath = fs.mkdtempSync(path.join(toolsDir, 'path-'));
    expect(findCommand('go', emptyPath)).toBeUndefined();
    let error: unknown;
    try {
      ensureGoTool(NATS_CLI_TOOL, { toolsDir, searchPath: emptyPath, note });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect((error as Error).message).toContain('Go is not installed');
    expect((error as Error).message).toContain('go install github.com/nats-io/natscli/nats@v0.5.0');
  });

  it('without Go, falls back to the Debian package and says which version runs', () => {
    const sbin = fs.mkdtempSync(path.join(toolsDir, 'sbin-'));
    fs.writeFileSync(path.join(sbin, 'nats-server'), '#!/bin/sh\necho "nats-server: v2.9.10"\n', {
      mode: 0o755,
    });
    const tool = ensureGoTool(NATS_SERVER_TOOL, { toolsDir, searchPath: sbin, allowApt: false, note });
    expect(tool).toMatchObject({
      path: path.join(sbin, 'nats-server'),
      version: 'v2.9.10',
      source: 'debian',
    });
    expect(notes.join('\n')).toContain(
      "using Debian's v2.9.10 instead of the pinned v2.15.3 (Go is not installed)",
    );
  });
});
