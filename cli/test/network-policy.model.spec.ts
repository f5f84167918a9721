import { allowed, Endpoint, inCidr, NetworkPolicy } from './network-policy.model';

// The evaluator the chart test trusts, checked on small policies whose answers are known.
const ns = 'app';
const pod = (id: string, namespace: string, labels: Record<string, string>): Endpoint => ({
  id,
  pod: {
    namespace,
    namespaceLabels: { 'kubernetes.io/metadata.name': namespace },
    labels,
    namedPorts: { http: 8080 },
  },
});
const api = pod('api', ns, { app: 'api' });
const dbSame = pod('db-same', ns, { app: 'db' });
const dbOther = pod('db-other', 'data', { app: 'db' });
const internet = { id: 'internet', ip: '198.51.100.7' };
const metadata = { id: 'metadata', ip: '169.254.169.254' };
const policy = (spec: NetworkPolicy['spec']): NetworkPolicy => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'p' },
  spec,
});
const tcp = (port: number) => ({ port, protocol: 'TCP' as const });

describe('NetworkPolicy model', () => {
  it('leaves pods that no policy selects open, and a default deny closes them', () => {
    expect(allowed([], ns, api, dbOther, tcp(5432))).toBe(true);
    const deny = policy({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    expect(allowed([deny], ns, api, dbOther, tcp(5432))).toBe(false);
    expect(allowed([deny], ns, dbOther, api, tcp(8080))).toBe(false);
  });

  it('reads a podSelector without namespaceSelector as the policy namespace only', () => {
    const egress = policy({
      podSelector: { matchLabels: { app: 'api' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { app: 'db' } } }], ports: [{ port: 5432 }] }],
    });
    expect(allowed([egress], ns, api, dbSame, tcp(5432))).toBe(true);
    expect(allowed([egress], ns, api, dbOther, tcp(5432))).toBe(false);
    expect(allowed([egress], ns, api, dbSame, tcp(5433))).toBe(false);
    expect(allowed([egress], ns, api, dbSame, { port: 5432, protocol: 'UDP' })).toBe(false);
  });

  it('intersects namespaceSelector and podSelector in one peer', () => {
    const egress = policy({
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'data' } },
              podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] },
            },
          ],
        },
      ],
    });
    expect(allowed([egress], ns, api, dbOther, tcp(1))).toBe(true);
    expect(allowed([egress], ns, api, dbSame, tcp(1))).toBe(false);
  });

  it('matches ipBlocks with their exceptions, named ports on the destination', () => {
    const egress = policy({
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } }], ports: [{ port: 443 }] },
      ],
    });
    expect(allowed([egress], ns, api, internet, tcp(443))).toBe(true);
    expect(allowed([egress], ns, api, metadata, tcp(443))).toBe(false);
    expect(allowed([egress], ns, api, dbOther, tcp(443))).toBe(false);
    const ingress = policy({
      podSelector: { matchLabels: { app: 'api' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 'http' }] }],
    });
    expect(allowed([ingress], ns, dbOther, api, tcp(8080))).toBe(true);
    expect(allowed([ingress], ns, dbOther, api, tcp(8081))).toBe(false);
    expect(inCidr('10.40.3.9', '10.40.0.0/16')).toBe(true);
    expect(inCidr('10.41.3.9', '10.40.0.0/16')).toBe(false);
  });
});
