import fc from 'fast-check';
import { parseCapacity, parseEngineUrl, parseLabel } from '@palisade/contracts';
import { RUNTIME_OBJECT_LABELS } from '@palisade/contracts';
import { findViolations, leftovers } from '../src/domain/inventory';
import { registered, stateOf } from './placement.fixture';

describe('parsers of what operators type', () => {
  it('engine URLs: unix:// with an absolute path and tcp+tls://host:port only', () => {
    expect(parseEngineUrl('unix:///var/run/docker.sock')).toEqual({
      kind: 'unix',
      socketPath: '/var/run/docker.sock',
    });
    expect(parseEngineUrl('tcp+tls://engine-1.internal:2376')).toEqual({
      kind: 'tls',
      host: 'engine-1.internal',
      port: 2376,
    });
    expect(parseEngineUrl('tcp+tls://[fd00::1]:2376')).toEqual({
      kind: 'tls',
      host: '[fd00::1]',
      port: 2376,
    });
    for (const bad of [
      'tcp://10.0.0.1:2375',
      'http://docker:2375',
      'unix://relative.sock',
      'unix:///a/../../etc/shadow',
      `unix:///${'x'.repeat(120)}`,
      'tcp+tls://host',
      'tcp+tls://host:0',
      'tcp+tls://host:70000',
      'tcp+tls://user:pw@host:2376',
      'tcp+tls://host:2376/path',
      'ssh://host',
      '',
    ])
      expect(parseEngineUrl(bad)).toHaveProperty('error');
  });

  it('engine URLs: any text gets an address or a sentence, never an exception', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `unix://${s}`),
          fc.string().map((s) => `tcp+tls://${s}`),
        ),
        (text) => {
          const parsed = parseEngineUrl(text);
          if ('error' in parsed) expect(parsed.error.length).toBeGreaterThan(10);
          else if (parsed.kind === 'unix') expect(parsed.socketPath.startsWith('/')).toBe(true);
          else expect(parsed.port).toBeGreaterThan(0);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('capacities: cpu in cores or millicores, memory with units, all three above zero', () => {
    expect(parseCapacity('cpu=4,memory=8Gi,runtimes=20')).toEqual({
      cpuMillis: 4000,
      memoryBytes: 8 * 2 ** 30,
      runtimes: 20,
    });
    expect(parseCapacity(' cpu = 500m , memory=512M, runtimes=1')).toEqual({
      cpuMillis: 500,
      memoryBytes: 512e6,
      runtimes: 1,
    });
    expect(parseCapacity('runtimes=3,cpu=0.5,memory=1073741824')).toEqual({
      cpuMillis: 500,
      memoryBytes: 2 ** 30,
      runtimes: 3,
    });
    for (const [bad, says] of [
      ['cpu=0,memory=1Gi,runtimes=1', 'above zero'],
      ['cpu=-1,memory=1Gi,runtimes=1', 'cpu'],
      ['cpu=1,memory=0,runtimes=1', 'above zero'],
      ['cpu=1,memory=1Gi,runtimes=0', 'above zero'],
      ['cpu=1,memory=1Gi', 'runtimes'],
      ['cpu=1,cpu=2,memory=1Gi,runtimes=1', 'twice'],
      ['cpu=1,memory=1Gi,runtimes=1,disk=10', 'unknown'],
      ['cpu=1,memory=1Pi,runtimes=1', 'memory'],
      ['4 cores', 'key=value'],
    ])
      expect((parseCapacity(bad) as { error: string }).error).toContain(says);
  });

  it('capacities: any text gets a capacity above zero or a sentence; printed capacities parse back', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        const parsed = parseCapacity(text);
        if (!('error' in parsed))
          expect(Math.min(parsed.cpuMillis, parsed.memoryBytes, parsed.runtimes)).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.integer({ min: 1, max: 100_000 }),
        (cpuMillis, memoryBytes, runtimes) =>
          expect(parseCapacity(`memory=${memoryBytes},runtimes=${runtimes},cpu=${cpuMillis}m`)).toEqual({
            cpuMillis,
            memoryBytes,
            runtimes,
          }),
      ),
    );
  });

  it('labels: key=value with safe characters; never a prototype key', () => {
    expect(parseLabel('zone=eu-1')).toEqual({ key: 'zone', value: 'eu-1' });
    expect(parseLabel('gpu=')).toEqual({ key: 'gpu', value: '' });
    for (const bad of ['zone', '=a', '__proto__=x', 'Zone=a', 'zone=a b', 'zone=a=b'])
      expect(parseLabel(bad)).toHaveProperty('error');
    fc.assert(
      fc.property(fc.string(), (text) => {
        const parsed = parseLabel(text);
        if (!('error' in parsed)) expect(`${parsed.key}=${parsed.value}`).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('the drift comparison', () => {
  const org = (orgId: string) => ({
    [RUNTIME_OBJECT_LABELS.org]: orgId,
    [RUNTIME_OBJECT_LABELS.runtime]: 'r',
  });
  const baseline = {
    containers: ['base-c'],
    volumes: ['base-v'],
    networks: ['n-none'],
    images: ['img-base'],
  };
  const host = (events: Parameters<typeof stateOf>[0]) => {
    const state = stateOf(events)!;
    return { ...state, baseline };
  };
  const free = host([registered('h1')]);
  const acme = host([
    registered('h1'),
    { type: 'host.assigned', data: { hostId: 'h1', orgId: 'acme', assignedAt: '2026-12-01T09:00:00.000Z' } },
  ]);
  const inventory = (
    containers: Array<{ id: string; labels: Record<string, string> }>,
    volumes: Array<{ name: string; labels: Record<string, string> }> = [],
  ) => ({
    containers: [{ id: 'base-c', labels: {} }, ...containers],
    volumes: [{ name: 'base-v', labels: {} }, ...volumes],
    networks: [{ id: 'n-none', name: 'none' }],
    images: [{ id: 'img-base' }],
  });

  it('is quiet when an engine holds only its baseline and its own organization', () => {
    expect(
      findViolations(
        acme,
        inventory([{ id: 'c1', labels: org('acme') }], [{ name: 'v1', labels: org('acme') }]),
      ),
    ).toEqual([]);
    expect(findViolations(free, inventory([]))).toEqual([]);
  });

  it('reports another organization, two organizations, and unlabeled containers', () => {
    const found = findViolations(
      acme,
      inventory([
        { id: 'c1', labels: org('acme') },
        { id: 'c2', labels: org('globex') },
        { id: 'c3', labels: {} },
      ]),
    );
    expect(found.map((v) => [v.kind, v.orgIds, v.objects.map((o) => o.id)])).toEqual([
      ['foreign_organization', ['globex'], ['c2']],
      ['two_organizations', ['acme', 'globex'], ['c1', 'c2']],
      ['unlabeled', [], ['c3']],
    ]);
    expect(findViolations(free, inventory([], [{ name: 'v9', labels: org('acme') }]))[0]).toMatchObject({
      kind: 'foreign_organization',
      orgIds: ['acme'],
    });
  });

  it('what a wipe removes is exactly what is beyond the baseline', () => {
    const left = leftovers(inventory([{ id: 'c1', labels: {} }]), baseline);
    expect(left.containers.map((c) => c.id)).toEqual(['c1']);
    expect([left.volumes, left.networks, left.images]).toEqual([[], [], []]);
  });
});
