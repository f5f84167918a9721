// `npm run contracts:generate` writes docs/events/ from the zod contracts;
// `npm run contracts:check` fails (exit 1) when the files there are stale.
import fs from 'node:fs';
import path from 'node:path';
import { createEventRegistry, EVENT_DOCS_DIR, eventDocFiles } from '@palisade/contracts';

const root = path.resolve(__dirname, '..');
const dir = path.join(root, EVENT_DOCS_DIR);
const files = eventDocFiles(createEventRegistry());
const mode = process.argv[2];

if (mode === 'generate') {
  fs.mkdirSync(dir, { recursive: true });
  for (const name of fs.readdirSync(dir))
    if (name.endsWith('.json') && !files.has(name)) fs.rmSync(path.join(dir, name));
  for (const [name, content] of files) fs.writeFileSync(path.join(dir, name), content);
  console.log(`wrote ${files.size} files to ${EVENT_DOCS_DIR}/`);
} else if (mode === 'check') {
  const present = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith('.json')) : [];
  const stale = [
    ...[...files]
      .filter(
        ([name, content]) =>
          !fs.existsSync(path.join(dir, name)) || fs.readFileSync(path.join(dir, name), 'utf8') !== content,
      )
      .map(([name]) => name),
    ...present.filter((name) => !files.has(name)),
  ];
  if (stale.length) {
    console.error(
      `${EVENT_DOCS_DIR}/ is stale (${stale.join(', ')}): run npm run contracts:generate and commit the result`,
    );
    process.exit(1);
  }
  console.log(`${EVENT_DOCS_DIR}/ is up to date (${files.size} files)`);
} else {
  console.error('usage: contracts.ts generate|check');
  process.exit(2);
}
