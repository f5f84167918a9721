import { contextConstants } from '@palisade/contracts';
import { privateNats } from '@palisade/testing';
import { headers, NatsConnection } from 'nats';
import { connectNats } from '../src/connection';
import { JetStreamPublisher } from '../src/jetstream-publisher';
import { inboxPrefix, natsAuthorizationConfig, rpcSubject, servicePermissions } from '../src/permissions';
import { contextStreamConfig, ensureStream } from '../src/streams';

/** Two services with their least-privilege users: each gets replies only under its own inbox prefix. */
describe('service NATS users: replies stay in the asking service', () => {
  const alpha = contextConstants('alpha');
  const beta = contextConstants('beta');
  const passwords = { alpha: 'alpha-password-not-secret', beta: 'beta-password-not-secret' };
  let server: Awaited<ReturnType<typeof privateNats>>;
  const open: NatsConnection[] = [];

  const as = async (name: 'alpha' | 'beta', prefix?: string) => {
    const nc = await connectNats({
      servers: server.url,
      user: name,
      password: passwords[name],
      name: `inbox-test-${name}`,
      inboxPrefix: prefix,
    });
    open.push(nc);
    return nc;
  };

  beforeAll(async () => {
    server = await privateNats(
      natsAuthorizationConfig([
        { user: 'alpha', password: passwords.alpha, permissions: servicePermissions(alpha) },
        { user: 'beta', password: passwords.beta, permissions: servicePermissions(beta) },
      ]),
    );
  });
  afterAll(async () => {
    for (const nc of open) await nc.close().catch(() => undefined);
    await server?.stop();
  });

  it('asks another service and publishes its events with acknowledgements, under its own prefix', async () => {
    const beta1 = await as('beta', inboxPrefix(beta));
    beta1.subscribe(rpcSubject(beta, 'echo'), { callback: (_error, msg) => msg.respond(msg.data) });
    await beta1.flush();
    const alpha1 = await as('alpha', inboxPrefix(alpha));
    const reply = await alpha1.request(rpcSubject(beta, 'echo'), new TextEncoder().encode('hi'), {
      timeout: 2_000,
    });
    expect(new TextDecoder().decode(reply.data)).toBe('hi');

    await ensureStream(await alpha1.jetstreamManager(), contextStreamConfig(alpha));
    const publisher = new JetStreamPublisher(alpha1);
    const ack = await publisher.publish('evt.alpha.org-1.thing.done', new TextEncoder().encode('{}'), {
      msgID: 'alpha-1',
      stream: alpha.stream,
      headers: headers(),
    });
    expect(ack).toMatchObject({ stream: alpha.stream, duplicate: false });
    publisher.close();
  });

  it('cannot listen to another service’s replies, nor to every inbox', async () => {
    const alpha2 = await as('alpha', inboxPrefix(alpha));
    for (const subject of [`${inboxPrefix(beta)}.>`, '_INBOX.>']) {
      const refused = new Promise<Error>((resolve) =>
        alpha2.subscribe(subject, { callback: (error) => error && resolve(error) }),
      );
      await expect(refused).resolves.toMatchObject({
        message: expect.stringMatching(/permissions violation/i),
      });
    }
  });

  it('without its prefix a service gets no replies at all', async () => {
    const unprefixed = await as('alpha');
    await expect(
      unprefixed.request(rpcSubject(beta, 'echo'), new Uint8Array(), { timeout: 2_000 }),
    ).rejects.toThrow(/permissions violation/i);
  });
});
