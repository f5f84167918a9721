import fs from 'node:fs';
import { isAlive } from '@palisade/embedded';
import { stopLeftoverEngines } from './docker';
import { servers } from './global-setup';
import { readTestState } from './test-state';

/** Stops the run's servers (by handle, then by PID as a fallback), engines tests left behind, and removes their folder. */
export default async function globalTeardown(): Promise<void> {
  if (process.env.PALISADE_TEST_STATE) stopLeftoverEngines();
  await servers.nats?.stop().catch(() => undefined);
  await servers.postgres?.stop().catch(() => undefined);
  const state = process.env.PALISADE_TEST_STATE ? readTestState() : undefined;
  for (const pid of [state?.natsPid, state?.postgresPid]) {
    if (pid && isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  const dir = servers.tempDir ?? state?.tempDir;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}
