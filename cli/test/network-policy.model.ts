// What a set of Kubernetes NetworkPolicies allows, evaluated as the API documents it
// (networking.k8s.io/v1): a pod selected by no policy of a direction is open in that direction;
// a selected pod accepts only what one of its policies' rules allows; a connection needs both the
// source's egress and the destination's ingress. Peers: podSelector alone = the policy's
// namespace; namespaceSelector alone = every pod there; both = the intersection; ipBlock = the
// addresses outside the cluster.

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }[];
}

interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

interface PolicyPort {
  port?: number | string;
  protocol?: string;
}

interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: PolicyPort[];
}

export interface NetworkPolicy {
  apiVersion: string;
  kind: 'NetworkPolicy';
  metadata: { name: string; namespace?: string };
  spec: {
    podSelector: LabelSelector;
    policyTypes?: ('Ingress' | 'Egress')[];
    ingress?: Rule[];
    egress?: Rule[];
  };
}

/** A pod in the cluster (labels, namespace and its namespace's labels), or an address outside it. */
export interface Endpoint {
  id: string;
  pod?: {
    namespace: string;
    namespaceLabels: Record<string, string>;
    labels: Record<string, string>;
    /** Named container ports (for policies that say `port: http`). */
    namedPorts?: Record<string, number>;
  };
  ip?: string;
}

export interface Port {
  port: number;
  protocol: 'TCP' | 'UDP';
}

export function matches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}))
    if (labels[key] !== value) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key]);
    const ok =
      e.operator === 'In'
        ? inValues
        : e.operator === 'NotIn'
          ? !inValues
          : e.operator === 'Exists'
            ? has
            : !has;
    if (!ok) return false;
  }
  return true;
}

function ipToNumber(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new Error(`not an IPv4 address: ${ip}`);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const length = Number(bits);
  if (!Number.isInteger(length) || length < 0 || length > 32) throw new Error(`not an IPv4 CIDR: ${cidr}`);
  const mask = length === 0 ? 0 : (~0 << (32 - length)) >>> 0;
  return (ipToNumber(ip) & mask) >>> 0 === (ipToNumber(base) & mask) >>> 0;
}

function peerMatches(peer: Peer, policyNamespace: string, other: Endpoint): boolean {
  if (peer.ipBlock) {
    if (!other.ip) return false;
    return (
      inCidr(other.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(other.ip!, c))
    );
  }
  if (!other.pod) return false;
  if (!peer.podSelector && !peer.namespaceSelector) throw new Error('a peer needs a selector or an ipBlock');
  const namespaceOk = peer.namespaceSelector
    ? matches(peer.namespaceSelector, other.pod.namespaceLabels)
    : other.pod.namespace === policyNamespace;
  return namespaceOk && matches(peer.podSelector, other.pod.labels);
}

function portMatches(ports: PolicyPort[] | undefined, port: Port, target: Endpoint): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== port.protocol) return false;
    if (p.port === undefined) return true;
    const number = typeof p.port === 'number' ? p.port : target.pod?.namedPorts?.[p.port];
    return number === port.port;
  });
}

function policyTypes(policy: NetworkPolicy): ('Ingress' | 'Egress')[] {
  return policy.spec.policyTypes ?? (policy.spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
}

/** Whether `policies` (all in `namespace`) let `from` open a connection to `to` on `port`. */
export function allowed(
  policies: readonly NetworkPolicy[],
  namespace: string,
  from: Endpoint,
  to: Endpoint,
  port: Port,
): boolean {
  const selecting = (endpoint: Endpoint, type: 'Ingress' | 'Egress') =>
    endpoint.pod && endpoint.pod.namespace === namespace
      ? policies.filter(
          (p) => policyTypes(p).includes(type) && matches(p.spec.podSelector, endpoint.pod!.labels),
        )
      : [];
  /** Open when no policy selects the pod; otherwise some rule must admit the peer and port. */
  const admits = (
    selected: NetworkPolicy[],
    rules: (p: NetworkPolicy) => Rule[] | undefined,
    peers: (r: Rule) => Peer[] | undefined,
    other: Endpoint,
  ) =>
    selected.length === 0 ||
    selected.some((p) =>
      (rules(p) ?? []).some((rule) => {
        const list = peers(rule);
        return (
          (!list || list.length === 0 || list.some((peer) => peerMatches(peer, namespace, other))) &&
          portMatches(rule.ports, port, to)
        );
      }),
    );
  const egressOk = admits(
    selecting(from, 'Egress'),
    (p) => p.spec.egress,
    (r) => r.to,
    to,
  );
  const ingressOk = admits(
    selecting(to, 'Ingress'),
    (p) => p.spec.ingress,
    (r) => r.from,
    from,
  );
  return egressOk && ingressOk;
}

/** Every allowed (from, to, port) among `endpoints` that involves one of `ours` (the release's pods). */
export function allowedFlows(
  policies: readonly NetworkPolicy[],
  namespace: string,
  endpoints: readonly Endpoint[],
  ports: readonly Port[],
  ours: (endpoint: Endpoint) => boolean,
): Set<string> {
  const flows = new Set<string>();
  for (const from of endpoints)
    for (const to of endpoints) {
      if (from === to) continue;
      if (!ours(from) && !ours(to)) continue;
      for (const port of ports)
        if (allowed(policies, namespace, from, to, port)) flows.add(flowKey(from.id, to.id, port));
    }
  return flows;
}

export function flowKey(from: string, to: string, port: Port): string {
  return `${from} -> ${to} ${port.port}/${port.protocol}`;
}
