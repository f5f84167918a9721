import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');

/** libs/domain and every service's domain/ folder (the pure core: deciders, checks, the audit log's maths). */
function domainFiles(): string[] {
  const files = [path.join(root, 'libs/domain/src/index.ts')];
  for (const service of fs.readdirSync(path.join(root, 'services'))) {
    const folder = path.join(root, 'services', service, 'src/domain');
    if (!fs.existsSync(folder)) continue;
    for (const entry of fs.readdirSync(folder, { recursive: true, encoding: 'utf8' }))
      if (entry.endsWith('.ts')) files.push(path.join(folder, entry));
  }
  return files;
}

describe('domains are framework-free', () => {
  it('loads no NestJS or express module from libs/domain or any service domain (what it loads, not only what it names)', () => {
    const files = domainFiles();
    expect(files.length).toBeGreaterThan(10);
    const output = execFileSync(
      process.execPath,
      [path.join(__dirname, 'framework-free.child.js'), ...files],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    const loaded = JSON.parse(output) as Record<string, string[]>;
    const offenders = Object.entries(loaded)
      .filter(([, framework]) => framework.length > 0)
      .map(([file, framework]) => `${path.relative(root, file)} loads ${framework.join(', ')}`);
    expect(offenders).toEqual([]);
  });
});
