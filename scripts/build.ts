// `npm run build`: the JavaScript that production runs (the image, bench:startup), in dist/.
// tsc compiles every workspace's sources; each workspace's package.json is copied beside its
// output with its entry points renamed .ts → .js, so `@palisade/*` resolves to compiled code
// (dist/node_modules/@palisade/* link to it for runs outside the image, where the repository's
// own node_modules holds the third-party packages).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

type Manifest = { name: string; main?: string; types?: string; exports?: Record<string, string> };
const toJs = (file: string) => file.replace(/\.ts$/, '.js');

function workspaces(): string[] {
  const { workspaces: globs } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    workspaces: string[];
  };
  return globs.flatMap((glob) =>
    glob.endsWith('/*')
      ? fs
          .readdirSync(path.join(root, glob.slice(0, -2)))
          .map((name) => `${glob.slice(0, -2)}/${name}`)
          .filter((dir) => fs.existsSync(path.join(root, dir, 'package.json')))
      : [glob],
  );
}

function build(): void {
  fs.rmSync(dist, { recursive: true, force: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  for (const file of ['package.json', 'package-lock.json'])
    fs.copyFileSync(path.join(root, file), path.join(dist, file));
  fs.copyFileSync(
    path.join(root, 'libs/runtime/worker-register.js'),
    path.join(dist, 'libs/runtime/worker-register.js'),
  );
  for (const workspace of workspaces()) {
    const manifest = JSON.parse(
      fs.readFileSync(path.join(root, workspace, 'package.json'), 'utf8'),
    ) as Manifest;
    if (manifest.main) manifest.main = toJs(manifest.main);
    if (manifest.types) manifest.types = toJs(manifest.types);
    if (manifest.exports)
      manifest.exports = Object.fromEntries(Object.entries(manifest.exports).map(([k, v]) => [k, toJs(v)]));
    fs.mkdirSync(path.join(dist, workspace), { recursive: true });
    fs.writeFileSync(path.join(dist, workspace, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const link = path.join(dist, 'node_modules', manifest.name);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.relative(path.dirname(link), path.join(dist, workspace)), link);
  }
}

const started = Date.now();
build();
console.log(`built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
