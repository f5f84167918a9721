import { headers, NatsConnection, nanos, StorageType } from 'nats';
import { privateNats } from '@palisade/testing';
import { connectNats } from '../src/connection';
import { JetStreamPublisher } from '../src/jetstream-publisher';

/** The relay's publisher against a real nats-server with JetStream. */
describe('JetStreamPublisher: one inbox for all acknowledgements', () => {
  let server: Awaited<ReturnType<typeof privateNats>>;
  let nc: NatsConnection;
  const data = new TextEncoder().encode('{"x":1}');
  const options = (msgID: string, stream = 'PUB') => ({ msgID, stream, headers: headers() });

  beforeAll(async () => {
    server = await privateNats();
    nc = await connectNats({ servers: server.url, name: 'publisher-test' });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({
      name: 'PUB',
      subjects: ['pub.>'],
      storage: StorageType.File,
      duplicate_window: nanos(60_000),
    });
    await jsm.streams.add({ name: 'OTHER', subjects: ['other.>'], storage: StorageType.File });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  it('resolves with the stream sequence; a repeated message id is acknowledged as a duplicate', async () => {
    const publisher = new JetStreamPublisher(nc);
    const first = await publisher.publish('pub.a', data, options('m-1'));
    const again = await publisher.publish('pub.a', data, options('m-1'));
    expect(first).toEqual({ stream: 'PUB', seq: expect.any(Number), duplicate: false });
    expect(again).toEqual({ stream: 'PUB', seq: first.seq, duplicate: true });
    publisher.close();
  });

  it('matches a thousand concurrent acknowledgements to their publishes, in order', async () => {
    const publisher = new JetStreamPublisher(nc);
    const acks = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) => publisher.publish('pub.b', data, options(`bulk-${i}`))),
    );
    const seqs = acks.map((ack) => ack.seq);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i));
    expect(publisher.inFlight).toBe(0);
    publisher.close();
  });

  it('rejects a publish refused by JetStream, and one no stream takes, with a sentence', async () => {
    const publisher = new JetStreamPublisher(nc);
    await expect(publisher.publish('other.a', data, options('wrong-stream', 'PUB'))).rejects.toThrow(
      /JetStream refused a publish on other\.a: .*stream/i,
    );
    await expect(publisher.publish('nowhere.a', data, options('no-stream'))).rejects.toThrow(
      'no JetStream stream takes subject nowhere.a',
    );
    publisher.close();
  });

  it('times out a publish nobody acknowledges, and close() rejects what still waits', async () => {
    // A plain subscriber takes the subject: there are responders, but no acknowledgement comes.
    const silent = nc.subscribe('silent.>');
    const publisher = new JetStreamPublisher(nc, 200);
    const started = Date.now();
    await expect(publisher.publish('silent.a', data, options('late'))).rejects.toThrow(
      'no JetStream ack for a publish on silent.a in 200 ms',
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    const waiting = new JetStreamPublisher(nc, 60_000);
    const pending = waiting.publish('silent.b', data, options('closed'));
    waiting.close();
    await expect(pending).rejects.toThrow('the JetStream publisher was closed');
    silent.unsubscribe();
    publisher.close();
  });
});
