import fc from 'fast-check';
import { decideResolution, RuntimeFacts } from '../src/domain/resolution';

const RUNTIME = '0193a1b2-0000-7000-8000-000000000001';
const waking: RuntimeFacts = {
  orgId: 'acme',
  workspaceId: 'api',
  state: 'waking',
  trigger: 'api',
  declared: ['API_KEY', 'DATABASE_URL'],
  devlinkWakeSecrets: false,
};
const secrets = new Map([
  ['API_KEY', { version: 3 }],
  ['DATABASE_URL', { version: 1 }],
  ['UNDECLARED', { version: 1 }],
]);
const request = (inputs: string[], overrides: Partial<{ orgId: string; workspaceId: string }> = {}) => ({
  orgId: 'acme',
  workspaceId: 'api',
  runtimeId: RUNTIME,
  inputs,
  ...overrides,
});

describe('decideResolution: who gets which inputs', () => {
  it('resolves declared inputs that have values, with their current versions, once each', () => {
    expect(decideResolution(request(['DATABASE_URL', 'API_KEY', 'API_KEY']), waking, secrets)).toEqual({
      outcome: 'resolve',
      inputs: [
        { name: 'DATABASE_URL', version: 1 },
        { name: 'API_KEY', version: 3 },
      ],
    });
  });

  it('refuses with a reason for each rule, checked in this order', () => {
    const reason = (runtime: RuntimeFacts | undefined, inputs: string[], overrides = {}) => {
      const decision = decideResolution(request(inputs, overrides), runtime, secrets);
      return decision.outcome === 'refuse' ? decision.reason : 'resolved';
    };
    expect(reason(undefined, ['API_KEY'])).toBe('runtime_unknown');
    expect(reason(waking, ['API_KEY'], { orgId: 'other' })).toBe('runtime_other_organization');
    expect(reason(waking, ['API_KEY'], { workspaceId: 'web' })).toBe('runtime_other_workspace');
    expect(reason({ ...waking, state: 'ended' }, ['API_KEY'])).toBe('runtime_not_waking');
    expect(reason({ ...waking, trigger: 'devlink' }, ['API_KEY'])).toBe('devlink_wake_without_secrets');
    expect(reason({ ...waking, trigger: 'devlink' }, [])).toBe('resolved');
    expect(reason({ ...waking, trigger: 'devlink', devlinkWakeSecrets: true }, ['API_KEY'])).toBe('resolved');
    expect(reason(waking, ['API_KEY', 'UNDECLARED'])).toBe('undeclared_input');
    expect(reason({ ...waking, declared: ['API_KEY', 'GONE'] }, ['GONE'])).toBe('secret_missing');
  });

  it('never hands out an input that is undeclared, unrequested or not waking (property)', () => {
    const name = fc.constantFrom('API_KEY', 'DATABASE_URL', 'UNDECLARED', 'GONE', 'OTHER');
    fc.assert(
      fc.property(
        fc.record({
          orgId: fc.constantFrom('acme', 'other'),
          workspaceId: fc.constantFrom('api', 'web'),
          state: fc.constantFrom('waking' as const, 'ended' as const),
          trigger: fc.constantFrom('api' as const, 'devlink' as const, undefined),
          declared: fc.uniqueArray(name),
          devlinkWakeSecrets: fc.boolean(),
        }),
        fc.array(name, { maxLength: 6 }),
        fc.constantFrom('acme', 'other'),
        fc.constantFrom('api', 'web'),
        (runtime, inputs, orgId, workspaceId) => {
          const decision = decideResolution(request(inputs, { orgId, workspaceId }), runtime, secrets);
          if (decision.outcome === 'refuse') return;
          expect(runtime.state).toBe('waking');
          expect([runtime.orgId, runtime.workspaceId]).toEqual([orgId, workspaceId]);
          if (runtime.trigger === 'devlink' && decision.inputs.length)
            expect(runtime.devlinkWakeSecrets).toBe(true);
          for (const { name: n, version } of decision.inputs) {
            expect(inputs).toContain(n);
            expect(runtime.declared).toContain(n);
            expect(secrets.get(n)?.version).toBe(version);
          }
          expect(decision.inputs.map((i) => i.name).sort()).toEqual([...new Set(inputs)].sort());
        },
      ),
      { numRuns: 2000 },
    );
  });
});
