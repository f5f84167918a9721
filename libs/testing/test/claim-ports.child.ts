// Claims PORT_COUNT ports at once (in PORT_LOW..PORT_HIGH when given), prints them as one JSON line,
// then holds them until it is stopped: SIGTERM exits normally, SIGKILL leaves no chance to clean up.
import { freePort } from '@palisade/embedded';

async function main(): Promise<void> {
  const count = Number(process.env.PORT_COUNT ?? 1);
  const pool = process.env.PORT_LOW
    ? { low: Number(process.env.PORT_LOW), high: Number(process.env.PORT_HIGH) }
    : undefined;
  const ports = await Promise.all(Array.from({ length: count }, () => freePort(pool)));
  process.on('SIGTERM', () => process.exit(0));
  setInterval(() => undefined, 60_000);
  process.stdout.write(`${JSON.stringify({ ports })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
