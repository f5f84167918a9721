import { hostCommand, hostTable } from '../src/commands/host.command';
import { UsageError } from '../src/targets';

describe('palisade host', () => {
  it('refuses bad input before it asks the server anything', async () => {
    const add = (...args: string[]) => hostCommand(['add', ...args]);
    const refusals: Array<[Promise<number>, string]> = [
      [add('--capacity', 'cpu=1,memory=1Gi,runtimes=1'), 'needs --engine and --capacity'],
      [add('--engine', 'tcp://10.0.0.1:2375', '--capacity', 'cpu=1,memory=1Gi,runtimes=1'), 'tcp+tls://'],
      [add('--engine', 'unix:///run/d.sock', '--capacity', 'cpu=0,memory=1Gi,runtimes=1'), 'above zero'],
      [
        add('--engine', 'unix:///run/d.sock', '--capacity', 'cpu=1,memory=1Gi,runtimes=1', '--label', 'zone'),
        'key=value',
      ],
      [hostCommand(['drain']), 'takes one host id'],
      [hostCommand(['remove', 'Not An Id']), 'is not a host id'],
      [hostCommand(['evict', 'h1']), 'unknown host command'],
    ];
    for (const [run, says] of refusals) {
      const error = await run.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toContain(says);
    }
  });

  it('lists hosts as a table an operator reads', () => {
    const table = hostTable([
      {
        hostId: 'engine-a',
        status: 'assigned',
        orgId: 'acme',
        healthy: false,
        draining: true,
        labels: { zone: 'a' },
        capacity: { cpuMillis: 4000, memoryBytes: 8 * 2 ** 30, runtimes: 20 },
        used: { cpuMillis: 1500, memoryBytes: 2 ** 30, runtimes: 3 },
      },
    ]).split('\n');
    expect(table[0].split(/\s+/)).toEqual([
      'HOST',
      'STATUS',
      'ORG',
      'HEALTH',
      'RUNTIMES',
      'CPU',
      'MEMORY',
      'LABELS',
    ]);
    expect(table[1].split(/\s+/)).toEqual([
      'engine-a',
      'assigned,draining',
      'acme',
      'UNHEALTHY',
      '3/20',
      '1.5/4',
      '1.0/8.0Gi',
      'zone=a',
    ]);
  });
});
