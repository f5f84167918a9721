import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureHelm } from '@palisade/testing';
import { parse, parseAllDocuments } from 'yaml';
import { targetNames } from '../src/targets';
import { allowedFlows, Endpoint, flowKey, LabelSelector, NetworkPolicy, Port } from './network-policy.model';

const root = path.resolve(__dirname, '..', '..');
const chart = path.join(root, 'helm', 'palisade');
const run = promisify(execFile);
const NAMESPACE = 'palisade';
/** helm built by `go install` reports Kubernetes 1.20 as its default; say which cluster we render for. */
const KUBE_VERSION = '1.31.0';

/**
 * Chart services that `palisade serve` does not offer yet. The dev-link gateway is being built
 * (issue 22); when `serve --target gateway` exists this list must become empty.
 */
const PENDING_TARGETS = ['gateway'];

type Values = Record<string, unknown>;
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
  }[];
  securityContext?: Record<string, unknown>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  startupProbe?: unknown;
  readinessProbe?: unknown;
  livenessProbe?: unknown;
}
interface PodSpec {
  automountServiceAccountToken?: boolean;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  initContainers?: Container[];
  volumes?: Record<string, unknown>[];
}
interface PodTemplate {
  owner: Manifest;
  labels: Record<string, string>;
  spec: PodSpec;
}

/** The documented variants: every file under helm/palisade/examples, and the defaults. */
const VARIANTS = ['(defaults)', ...fs.readdirSync(path.join(chart, 'examples')).sort()];
const valuesArgs = (variant: string) =>
  variant === '(defaults)' ? [] : ['-f', path.join(chart, 'examples', variant)];

let helm: string;
const helmRun = (args: string[]) => run(helm, args, { maxBuffer: 32 * 1024 * 1024 });
const render = async (args: string[]): Promise<Manifest[]> => {
  const { stdout } = await helmRun([
    'template',
    'palisade',
    chart,
    '--namespace',
    NAMESPACE,
    '--kube-version',
    KUBE_VERSION,
    ...args,
  ]);
  return parseAllDocuments(stdout)
    .map((doc) => {
      if (doc.errors.length) throw new Error(`rendered YAML does not parse: ${doc.errors[0].message}`);
      return doc.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null);
};

function deepMerge(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object'
        ? deepMerge(current as Values, value as Values)
        : value;
  }
  return out;
}
const defaults = () => parse(fs.readFileSync(path.join(chart, 'values.yaml'), 'utf8')) as Values;
const valuesOf = (variant: string, extra: Values = {}): Values =>
  deepMerge(
    deepMerge(
      defaults(),
      variant === '(defaults)'
        ? {}
        : (parse(fs.readFileSync(path.join(chart, 'examples', variant), 'utf8')) as Values),
    ),
    extra,
  );
const at = (values: Values, dotted: string): unknown =>
  dotted.split('.').reduce<unknown>((v, k) => (v as Values | undefined)?.[k], values);

function podTemplates(manifests: Manifest[]): PodTemplate[] {
  return manifests
    .filter((m) => m.kind === 'Deployment' || m.kind === 'Job')
    .map((m) => {
      const template = m.spec.template as { metadata: { labels: Record<string, string> }; spec: PodSpec };
      return { owner: m, labels: template.metadata.labels, spec: template.spec };
    });
}

describe('the Helm chart, rendered by helm v3.21.4', () => {
  beforeAll(() => {
    helm = ensureHelm();
  }, 15 * 60_000);

  it.each(VARIANTS)('helm lint --strict accepts %s', async (variant) => {
    const { stdout } = await helmRun([
      'lint',
      '--strict',
      chart,
      '--namespace',
      NAMESPACE,
      '--kube-version',
      KUBE_VERSION,
      ...valuesArgs(variant),
    ]);
    expect(stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it.each(VARIANTS)('every pod of %s meets the restricted profile (uid/gid 1001)', async (variant) => {
    const manifests = await render(valuesArgs(variant));
    const pods = podTemplates(manifests);
    expect(pods.length).toBeGreaterThanOrEqual(8);
    for (const { owner, spec } of pods) {
      const where = `${owner.kind}/${owner.metadata.name}`;
      expect({ where, automount: spec.automountServiceAccountToken }).toEqual({ where, automount: false });
      expect({ where, host: [spec.hostNetwork, spec.hostPID, spec.hostIPC].filter(Boolean) }).toEqual({
        where,
        host: [],
      });
      expect(spec.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 1001,
        runAsGroup: 1001,
        fsGroup: 1001,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      for (const volume of spec.volumes ?? [])
        expect(Object.keys(volume).filter((k) => k !== 'name')).toEqual(
          expect.arrayContaining([expect.stringMatching(/^(emptyDir|secret|configMap|projected)$/)]),
        );
      for (const container of [...spec.containers, ...(spec.initContainers ?? [])]) {
        const c = `${where} container ${container.name}`;
        expect({ c, securityContext: container.securityContext }).toMatchObject({
          c,
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
        });
        expect(container.securityContext?.privileged).not.toBe(true);
        expect((container.securityContext?.capabilities as { add?: string[] }).add ?? []).toEqual([]);
        if (container.securityContext?.runAsUser !== undefined)
          expect(container.securityContext.runAsUser).toBe(1001);
        for (const kind of ['requests', 'limits'] as const)
          expect({ c, kind, keys: Object.keys(container.resources?.[kind] ?? {}).sort() }).toEqual({
            c,
            kind,
            keys: ['cpu', 'memory'],
          });
        if (owner.kind === 'Deployment')
          expect({
            c,
            probes: [container.startupProbe, container.readinessProbe, container.livenessProbe],
          }).toEqual({ c, probes: [expect.anything(), expect.anything(), expect.anything()] });
      }
    }
    // No service needs the Kubernetes API: no Role, no binding, no token.
    expect(manifests.filter((m) => /Role|RoleBinding/.test(m.kind))).toEqual([]);
  });

  it('runs one `serve --target` per service, and each service is a target of the CLI (or pending)', async () => {
    const manifests = await render([]);
    const deployments = manifests.filter((m) => m.kind === 'Deployment');
    const targets = deployments.map((d) => {
      const [container] = (d.spec.template as { spec: PodSpec }).spec.containers;
      expect(container.args?.slice(0, 2)).toEqual(['serve', '--target']);
      return container.args![2];
    });
    expect(targets.sort()).toEqual([...targetNames(), ...PENDING_TARGETS].sort());
    for (const pending of PENDING_TARGETS) expect(targetNames()).not.toContain(pending);
  });

  it('gives every service its own Secret, NATS user and Postgres login, and audit its signing key', async () => {
    const manifests = await render([]);
    for (const deployment of manifests.filter((m) => m.kind === 'Deployment')) {
      const [container] = (deployment.spec.template as { spec: PodSpec }).spec.containers;
      const service = container.args![2];
      const prefix = service.toUpperCase().replace(/-/g, '_');
      const env = new Map((container.env ?? []).map((e) => [e.name, e]));
      expect(env.get(`${prefix}_NATS_USER`)?.value).toBe(service);
      for (const [variable, key] of [
        [`${prefix}_NATS_PASSWORD`, 'NATS_PASSWORD'],
        [`${prefix}_DATABASE_URL`, 'DATABASE_URL'],
      ])
        expect(env.get(variable)?.valueFrom?.secretKeyRef).toEqual({ name: `palisade-${service}`, key });
      // Secrets never appear as values in the manifests.
      for (const e of container.env ?? [])
        if (/(PASSWORD|_SECRET|_KEY|DATABASE_URL)$/.test(e.name)) expect(e.value).toBeUndefined();
      if (service === 'audit') {
        expect(env.get('AUDIT_SIGNING_KEY')?.valueFrom?.secretKeyRef).toEqual({
          name: 'palisade-audit',
          key: 'AUDIT_SIGNING_KEY',
        });
        expect(env.get('AUDIT_CLICKHOUSE_PASSWORD')?.valueFrom?.secretKeyRef?.name).toBe('palisade-audit');
        expect(env.get('AUDIT_CLICKHOUSE_URL')?.value).toMatch(/^https:/);
      } else expect([...env.keys()].filter((k) => k.startsWith('AUDIT_'))).toEqual([]);
    }
    const job = manifests.find((m) => m.kind === 'Job')!;
    expect(job.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    const [migrate] = (job.spec.template as { spec: PodSpec }).spec.containers;
    expect(migrate.args).toEqual(['migrate']);
    expect(migrate.env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({
      name: 'palisade-migrate',
      key: 'DATABASE_URL',
    });
  });

  it('renders the production variant: digest, autoscaling, TLS from cert-manager, ingress, ServiceMonitor', async () => {
    const manifests = await render(valuesArgs('production.yaml'));
    const values = valuesOf('production.yaml');
    const digest = at(values, 'image.digest') as string;
    for (const { spec } of podTemplates(manifests)) {
      expect(spec.containers[0].image).toBe(`registry.example.com/palisade@${digest}`);
      expect(spec.volumes).toContainEqual(expect.objectContaining({ name: 'tls' }));
      expect(spec.containers[0].env?.map((e) => e.name)).toEqual(
        expect.arrayContaining(['NATS_TLS_CA_FILE', 'NATS_TLS_CERT_FILE', 'NATS_TLS_KEY_FILE']),
      );
    }
    const kinds = (kind: string) => manifests.filter((m) => m.kind === kind);
    expect(kinds('HorizontalPodAutoscaler')).toHaveLength(8);
    expect(kinds('PodDisruptionBudget')).toHaveLength(8);
    for (const d of kinds('Deployment')) expect(d.spec.replicas).toBeUndefined();
    expect(
      kinds('Certificate')
        .map((c) => c.metadata.name)
        .sort(),
    ).toEqual([...targetNames(), ...PENDING_TARGETS, 'migrate'].map((n) => `palisade-${n}`).sort());
    // The migration Job's certificate exists before the Job runs.
    expect(
      kinds('Certificate').find((c) => c.metadata.name === 'palisade-migrate')?.metadata.annotations,
    ).toMatchObject({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-weight': '-10',
    });
    expect(kinds('ServiceMonitor')).toHaveLength(1);
    const ingresses = new Map(kinds('Ingress').map((i) => [i.metadata.name, i.spec]));
    const gateway = ingresses.get('palisade-gateway') as {
      rules: { host: string; http: { paths: { backend: { service: { name: string } } }[] } }[];
      tls: { hosts: string[] }[];
    };
    expect(gateway.rules[0].host).toBe('*.links.example.com');
    expect(gateway.tls[0].hosts).toEqual(['*.links.example.com']);
    expect(gateway.rules[0].http.paths[0].backend.service.name).toBe('palisade-gateway');
    const api = ingresses.get('palisade-api') as {
      rules: { host: string; http: { paths: { path: string; backend: { service: { name: string } } }[] } }[];
    };
    const routes = api.rules[0].http.paths;
    expect(routes.map((p) => p.path)).toEqual(expect.arrayContaining(['/v1/auth', '/v1/orgs', '/v1/audit']));
    const services = new Set(kinds('Service').map((s) => s.metadata.name));
    for (const route of routes) expect(services).toContain(route.backend.service.name);
    // Health and metrics are never routed from outside.
    for (const route of routes) expect(route.path).not.toMatch(/^\/(metrics|healthz|readyz)/);
  });

  it('renders ExternalSecrets or SealedSecrets for every Secret the release reads, the migration one first', async () => {
    for (const [variant, kind] of [
      ['external-secrets.yaml', 'ExternalSecret'],
      ['sealed-secrets.yaml', 'SealedSecret'],
    ]) {
      const manifests = await render(valuesArgs(variant));
      const secrets = manifests.filter((m) => m.kind === kind);
      expect(secrets.map((s) => s.metadata.name).sort()).toEqual(
        [...targetNames(), ...PENDING_TARGETS, 'migrate'].map((n) => `palisade-${n}`).sort(),
      );
      expect(
        secrets.find((s) => s.metadata.name === 'palisade-migrate')?.metadata.annotations?.['helm.sh/hook'],
      ).toBe('pre-install,pre-upgrade');
      if (kind === 'ExternalSecret')
        expect(secrets.find((s) => s.metadata.name === 'palisade-audit')?.spec).toMatchObject({
          secretStoreRef: { name: 'aws-secrets-manager', kind: 'ClusterSecretStore' },
          dataFrom: [{ extract: { key: 'prod/palisade/audit' } }],
        });
      else
        expect(
          (secrets.find((s) => s.metadata.name === 'palisade-audit')?.spec.encryptedData as Values) ?? {},
        ).toHaveProperty('AUDIT_SIGNING_KEY');
    }
    // A sealed-secrets install without the sealed data is refused with the key to fill in.
    await expect(render(['--set', 'secrets.source=sealedSecrets'])).rejects.toThrow(
      /secrets\.sealedSecrets\.encryptedData\.\w+ is missing/,
    );
  });

  it('turns the ServiceMonitor, the Ingress and the NetworkPolicies on and off', async () => {
    const count = async (args: string[], kind: string) =>
      (await render(args)).filter((m) => m.kind === kind).length;
    expect(await count([], 'ServiceMonitor')).toBe(0);
    expect(await count(valuesArgs('service-monitor.yaml'), 'ServiceMonitor')).toBe(1);
    expect(await count([], 'Ingress')).toBe(0);
    expect(await count(valuesArgs('ingress.yaml'), 'Ingress')).toBe(2);
    expect(await count(valuesArgs('network-policy-off.yaml'), 'NetworkPolicy')).toBe(0);
    expect(await count([], 'NetworkPolicy')).toBe(10);
  });

  it.each([
    ['image.digest=latest', /image\/digest/],
    ['image.digest=sha256:ABC', /image\/digest/],
    ['mode=staging', /\/mode/],
    ['services.identity.replicas=-1', /services\/identity\/replicas/],
    ['services.billing.enabled=true', /additional properties 'billing' not allowed/],
    ['resources.limits.memory=lots', /resources\/limits\/memory/],
    ['networkPolicy.peers.nats.ports[0].port=70000', /networkPolicy\/peers\/nats\/ports\/0\/port/],
    ['networkPolicy.peers.nats.namespaceSelector=null', /networkPolicy\/peers\/nats/],
    ['secrets.source=vault', /secrets\/source/],
    ['oidc.issuer=http://login.example.com/', /oidc\/issuer/],
    ['nats.url=http://nats:4222', /nats\/url/],
    ['networkPolicy.dockerHosts.cidrs[0]=10.0.0.0', /dockerHosts\/cidrs\/0/],
    ['ingress.gateway.domain=*.links.example.com', /ingress\/gateway\/domain/],
    ['imageTag=1.0', /additional properties 'imageTag' not allowed/],
  ])('values.schema.json refuses %s', async (setting, message) => {
    const failure = await render(['--set', setting]).then(
      () => new Error('rendered'),
      (error: Error) => error,
    );
    expect(failure.message).toMatch(/values don't meet the specifications of the schema/);
    expect(failure.message).toMatch(message);
  });

  describe('NetworkPolicies allow exactly the flows of docs/operations.md', () => {
    const PORTS: Port[] = [53, 22, 443, 2376, 4222, 4318, 5432, 8080, 8443, 9090]
      .map((port): Port => ({ port, protocol: 'TCP' }))
      .concat([{ port: 53, protocol: 'UDP' }]);

    /** The documented table, expanded to (from, to, port) for these values. */
    function documentedFlows(
      values: Values,
      services: string[],
      postgresOf: (s: string) => string,
    ): Set<string> {
      const doc = fs.readFileSync(path.join(root, 'docs', 'operations.md'), 'utf8');
      const section = doc.split(/^## Network flows$/m)[1].split(/^## /m)[0];
      const rows = section
        .split('\n')
        .filter((line) => /^\|\s*`/.test(line))
        .map((line) =>
          line
            .split('|')
            .slice(1, -1)
            .map((cell) => cell.trim()),
        );
      expect(rows.length).toBeGreaterThanOrEqual(8);
      const names = (cell: string) =>
        [...cell.matchAll(/`([^`]+)`/g)].flatMap(([, n]) => (n === 'services' ? services : [n]));
      const flows = new Set<string>();
      for (const [from, to, ports, when] of rows) {
        const condition = /`([^`]+)`/.exec(when)?.[1];
        if (condition) {
          const value = at(values, condition);
          if (!value || (Array.isArray(value) && value.length === 0)) continue;
        } else expect(when).toBe('always');
        for (const f of names(from))
          for (const t of names(to))
            for (const [, port, protocol] of ports.matchAll(/(\d+)\/(TCP|UDP)/g))
              flows.add(
                flowKey(f, t === 'postgres' && services.includes(f) ? postgresOf(f) : t, {
                  port: Number(port),
                  protocol: protocol as Port['protocol'],
                }),
              );
      }
      return flows;
    }

    function world(manifests: Manifest[], values: Values): Endpoint[] {
      const namespaceLabels = { 'kubernetes.io/metadata.name': NAMESPACE };
      const ours = podTemplates(manifests).map(({ labels, spec }): Endpoint => ({
        id: labels['palisade.dev/service'],
        pod: {
          namespace: NAMESPACE,
          namespaceLabels,
          labels,
          namedPorts: Object.fromEntries(
            spec.containers.flatMap((c) => c.ports ?? []).map((p) => [p.name, p.containerPort]),
          ),
        },
      }));
      type PeerValues = { namespaceSelector: LabelSelector; podSelector: LabelSelector };
      const fromPeer = (id: string, peer: PeerValues): Endpoint => {
        const nsLabels = peer.namespaceSelector.matchLabels ?? {};
        return {
          id,
          pod: {
            namespace: nsLabels['kubernetes.io/metadata.name'] ?? `ns-of-${id}`,
            namespaceLabels: nsLabels,
            labels: peer.podSelector.matchLabels ?? {},
          },
        };
      };
      const peers = at(values, 'networkPolicy.peers') as Record<string, PeerValues>;
      const external = [
        fromPeer('ingress-controller', peers.ingressController),
        fromPeer('prometheus', peers.prometheus),
        fromPeer('nats', peers.nats),
        fromPeer('postgres', peers.postgres),
        fromPeer('clickhouse', peers.clickhouse),
        fromPeer('otlp-collector', peers.otlpCollector),
        fromPeer('dns', peers.dns),
        ...Object.entries(at(values, 'services') as Record<string, { postgresPeer?: PeerValues }>)
          .filter(([, s]) => s.postgresPeer)
          .map(([name, s]) => fromPeer(`postgres-${name}`, s.postgresPeer!)),
        { id: 'public-https', ip: '198.51.100.7' },
        { id: 'docker-hosts', ip: '10.40.3.9' },
        // What must stay unreachable: a pod elsewhere, an unrelated pod beside ours, a private
        // address, the cloud metadata endpoint.
        {
          id: 'stranger',
          pod: {
            namespace: 'default',
            namespaceLabels: { 'kubernetes.io/metadata.name': 'default' },
            labels: { app: 'x' },
          },
        },
        { id: 'neighbour', pod: { namespace: NAMESPACE, namespaceLabels, labels: { app: 'neighbour' } } },
        { id: 'private-address', ip: '10.99.0.1' },
        { id: 'metadata-service', ip: '169.254.169.254' },
      ];
      return [...ours, ...external];
    }

    const cases: [string, string, Values][] = [
      ['the defaults', '(defaults)', {}],
      ['production (OTLP, docker hosts)', 'production.yaml', {}],
      ['ingress', 'ingress.yaml', {}],
      [
        'no ClickHouse, no public HTTPS',
        '(defaults)',
        { clickhouse: { enabled: false }, networkPolicy: { publicHttps: { enabled: false } } },
      ],
      [
        'a Postgres of their own for identity and audit',
        '(defaults)',
        {
          services: {
            identity: {
              postgresPeer: {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'pg-identity' } },
                podSelector: { matchLabels: { 'cnpg.io/cluster': 'identity' } },
                ports: [{ port: 5432, protocol: 'TCP' }],
              },
            },
            audit: {
              postgresPeer: {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'pg-audit' } },
                podSelector: { matchLabels: { 'cnpg.io/cluster': 'audit' } },
                ports: [{ port: 5432, protocol: 'TCP' }],
              },
            },
          },
        },
      ],
    ];

    it.each(cases)('%s', async (_title, variant, extra) => {
      const extraFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-helm-')), 'v.yaml');
      fs.writeFileSync(extraFile, JSON.stringify(extra));
      const manifests = await render([...valuesArgs(variant), '-f', extraFile]);
      const values = valuesOf(variant, extra);
      const policies = manifests.filter((m): m is Manifest & NetworkPolicy => m.kind === 'NetworkPolicy');
      for (const policy of policies) {
        expect(policy.apiVersion).toBe('networking.k8s.io/v1');
        expect(policy.spec.podSelector).toBeDefined();
        expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
        // Every peer that selects pods names their namespace too.
        for (const rule of [...(policy.spec.ingress ?? []), ...(policy.spec.egress ?? [])])
          for (const peer of [...(rule.from ?? []), ...(rule.to ?? [])])
            if (!('ipBlock' in peer)) expect(peer).toHaveProperty('namespaceSelector');
      }
      const services = podTemplates(manifests)
        .map((p) => p.labels['palisade.dev/service'])
        .filter((s) => s !== 'migrate');
      const postgresOf = (service: string) =>
        at(values, `services.${service}.postgresPeer`) ? `postgres-${service}` : 'postgres';
      const actual = allowedFlows(policies, NAMESPACE, world(manifests, values), PORTS, (e) =>
        Boolean(e.pod?.labels['app.kubernetes.io/instance']),
      );
      const documented = documentedFlows(values, services, postgresOf);
      expect([...actual].filter((f) => !documented.has(f)).sort()).toEqual([]);
      expect([...documented].filter((f) => !actual.has(f)).sort()).toEqual([]);
      fs.rmSync(path.dirname(extraFile), { recursive: true, force: true });
    });
  });
});
