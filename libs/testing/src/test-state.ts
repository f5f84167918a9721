import fs from 'node:fs';

/** What the jest global setup started, for workers and the teardown. */
export interface TestState {
  tempDir: string;
  natsUrl: string;
  natsPid: number;
  /** The nats-server binary the run uses (privateNats starts the same one). */
  natsServerBinary: string;
  postgresUrl: string;
  postgresPid: number;
}

export const STATE_ENV = 'PALISADE_TEST_STATE';

/** The state written by the global setup of this jest run. */
export function readTestState(): TestState {
  const file = process.env[STATE_ENV];
  if (!file || !fs.existsSync(file)) {
    throw new Error(
      `no test servers: run integration tests through jest (globalSetup libs/testing/src/global-setup.ts), not directly`,
    );
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as TestState;
}
