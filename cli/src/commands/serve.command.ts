import { runUntilSignal } from '@palisade/runtime';
import { selectTargets } from '../targets';

/** `palisade serve --target identity,audit`: the chosen services against NATS_URL and DATABASE_URL. */
export async function serveCommand(options: { targets: string; port?: number }): Promise<number> {
  const services = selectTargets(options.targets);
  const env = { ...process.env, ...(options.port === undefined ? {} : { HTTP_PORT: String(options.port) }) };
  return runUntilSignal(services, env);
}
