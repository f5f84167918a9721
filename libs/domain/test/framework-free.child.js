// Loads each file given on the command line in a fresh module cache and prints, per file, the
// framework modules (@nestjs/*, express) it pulled in. Run by framework-free.spec.ts.
require('../../../scripts/ts-register.js');
const FRAMEWORK = /[\\/]node_modules[\\/](@nestjs[\\/][^\\/]+|express)[\\/]/;
const loaded = {};
for (const file of process.argv.slice(2)) {
  for (const key of Object.keys(require.cache)) delete require.cache[key];
  require(file);
  const framework = new Set();
  for (const key of Object.keys(require.cache)) {
    const match = FRAMEWORK.exec(key);
    if (match) framework.add(match[1].replace(/\\/g, '/'));
  }
  loaded[file] = [...framework].sort();
}
process.stdout.write(JSON.stringify(loaded));
