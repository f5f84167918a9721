import { inspect } from 'node:util';
import { GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { SsmEndpoint, startSsmEndpoint, uniqueId } from '@palisade/testing';
import { SecretBackendError } from '../src/backends/secret-backend';
import { SECRET_BACKEND } from '../src/backends/secret-backend.token';
import { CURRENT_LABEL, SsmSecretBackend } from '../src/backends/ssm.backend';
import { SecretQueries } from '../src/queries/secret.queries';
import { SecretsHarness, startSecretsHarness } from './secrets.harness';

// The SDK's provider chain finds these in the environment, as it would on a developer machine.
process.env.AWS_ACCESS_KEY_ID = 'AKIAPALISADETEST0001';
process.env.AWS_SECRET_ACCESS_KEY = 'palisade-test-secret-access-key-not-real';
process.env.AWS_EC2_METADATA_DISABLED = 'true';

const region = 'eu-central-1';
const noDb = undefined as never;

async function failure(promise: Promise<unknown>): Promise<SecretBackendError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SecretBackendError) return error;
    throw error;
  }
  throw new Error('expected a SecretBackendError');
}

describe('the SSM backend, with the real @aws-sdk/client-ssm against the SSM-compatible endpoint', () => {
  let endpoint: SsmEndpoint;
  let backend: SsmSecretBackend;
  const orgId = uniqueId('org');
  const key = (name: string) => ({ orgId, workspaceId: 'api', name });
  const options = () => ({
    region,
    endpoint: endpoint.url,
    prefix: '/palisade',
    kmsKey: 'alias/palisade-{org}',
    maxAttempts: 3,
  });

  beforeAll(async () => {
    endpoint = await startSsmEndpoint();
    backend = new SsmSecretBackend(options());
  });
  afterEach(() => endpoint.reset());
  afterAll(async () => {
    backend?.client.destroy();
    await endpoint?.stop();
  });

  it('writes SecureStrings with the organization’s KMS key, overwrites with new versions, and reads the version it is asked for', async () => {
    const first = await backend.put(noDb, key('DATABASE_URL'), 1, 'postgres://one');
    const second = await backend.put(noDb, key('DATABASE_URL'), 2, 'postgres://two');
    expect(first).toEqual({ backend: 'ssm', parameter: `/palisade/${orgId}/api/DATABASE_URL`, version: 1 });
    expect(second).toEqual({ ...first, version: 2 });
    expect(endpoint.parameter(first.parameter)).toMatchObject({
      type: 'SecureString',
      keyId: `alias/palisade-${orgId}`,
      versions: [1, 2],
    });
    const read = async (ref: typeof first) =>
      Object.fromEntries(await backend.getMany(noDb, orgId, 'api', [{ name: 'DATABASE_URL', ref }]));
    expect(await read(first)).toEqual({ DATABASE_URL: 'postgres://one' });
    expect(await read(second)).toEqual({ DATABASE_URL: 'postgres://two' });
    // The label marks the version Palisade serves, for whoever looks at SSM directly.
    const labelled = await backend.client.send(
      new GetParameterCommand({ Name: `${first.parameter}:${CURRENT_LABEL}`, WithDecryption: true }),
    );
    expect(labelled.Parameter?.Version).toBe(2);
    expect(await backend.list(noDb, orgId, 'api')).toEqual([{ name: 'DATABASE_URL', version: 2 }]);
    // Every request was SigV4-signed by the SDK with the provider chain's credentials.
    expect(new Set(endpoint.requests.map((r) => `${r.accessKeyId}/${r.region}`))).toEqual(
      new Set([`AKIAPALISADETEST0001/${region}`]),
    );
  });

  it('says not_found for a missing parameter or version, and deleting what is gone is no error', async () => {
    const ref = await backend.put(noDb, key('API_KEY'), 1, 'k');
    expect(
      (await failure(backend.getMany(noDb, orgId, 'api', [{ name: 'API_KEY', ref: { ...ref, version: 9 } }])))
        .code,
    ).toBe('not_found');
    await backend.delete(noDb, key('API_KEY'));
    await backend.delete(noDb, key('API_KEY'));
    const gone = await failure(backend.getMany(noDb, orgId, 'api', [{ name: 'API_KEY', ref }]));
    expect(gone.code).toBe('not_found');
    expect(gone.message).toBe(`SSM has no /palisade/${orgId}/api/API_KEY:1`);
  });

  it('lets the SDK retry throttling, and reports throttling that outlasts the retries', async () => {
    const ref = await backend.put(noDb, key('TOKEN'), 1, 'throttled-value');
    const before = endpoint.requests.length;
    endpoint.inject('ThrottlingException', { operation: 'GetParameters', times: 2 });
    const values = await backend.getMany(noDb, orgId, 'api', [{ name: 'TOKEN', ref }]);
    expect(values.get('TOKEN')).toBe('throttled-value');
    expect(endpoint.requests.slice(before).map((r) => r.outcome)).toEqual([
      'ThrottlingException',
      'ThrottlingException',
      'ok',
    ]);

    const impatient = new SsmSecretBackend({ ...options(), maxAttempts: 2 });
    endpoint.inject('ThrottlingException', { operation: 'GetParameters', times: 2 });
    const throttled = await failure(impatient.getMany(noDb, orgId, 'api', [{ name: 'TOKEN', ref }]));
    impatient.client.destroy();
    expect(throttled.code).toBe('throttled');
  });

  it('surfaces access denied (IAM or KMS) as a clear error that never holds the value', async () => {
    endpoint.deny({ prefix: `/palisade/${orgId}/locked/` });
    const denied = await failure(
      backend.put(noDb, { orgId, workspaceId: 'locked', name: 'API_KEY' }, 1, 'denied-canary-value'),
    );
    expect(denied.code).toBe('access_denied');
    expect(denied.message).toBe(
      `SSM refused PutParameter on /palisade/${orgId}/locked/API_KEY (AccessDeniedException): check the IAM policy of Palisade's role and the KMS key policy of alias/palisade-${orgId}`,
    );
    endpoint.reset();
    const ref = await backend.put(noDb, key('KMS_GUARDED'), 1, 'kms-canary-value');
    endpoint.deny({ keyId: `alias/palisade-${orgId}` });
    const kms = await failure(backend.getMany(noDb, orgId, 'api', [{ name: 'KMS_GUARDED', ref }]));
    expect(kms.code).toBe('access_denied');
    for (const error of [denied, kms]) {
      const shown = `${inspect(error, { depth: 10 })} ${JSON.stringify(error)} ${error.stack}`;
      expect(shown).not.toContain('canary-value');
    }
  });

  it('refuses requests that are not SigV4-signed', async () => {
    const response = await fetch(endpoint.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameter' },
      body: JSON.stringify({ Name: `/palisade/${orgId}/api/TOKEN`, WithDecryption: true }),
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({
      __type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    });
  });
});

describe('the secrets service on SSM: resolve reads the recorded version; failures refuse the wake clearly', () => {
  let endpoint: SsmEndpoint;
  let h: SecretsHarness;
  const orgId = uniqueId('org');

  beforeAll(async () => {
    endpoint = await startSsmEndpoint();
    h = await startSecretsHarness({
      SECRETS_BACKEND: 'ssm',
      SECRETS_SSM_REGION: region,
      SECRETS_SSM_ENDPOINT: endpoint.url,
      SECRETS_SSM_MAX_ATTEMPTS: '2',
    });
    await h.scheduler.workspace(orgId, 'api', ['API_KEY', 'DATABASE_URL']);
  });
  afterAll(async () => {
    await h?.stop();
    await endpoint?.stop();
  });

  async function resolve(inputs: string[]) {
    const { reply, values } = await h.wakeAndResolve(orgId, 'api', inputs);
    return values ?? reply;
  }
  const list = () => h.running.app.get(SecretQueries, { strict: false }).list(orgId, 'api');

  it('serves the version Palisade recorded, even after someone wrote the parameter outside Palisade', async () => {
    await h.set({ orgId, workspaceId: 'api', name: 'API_KEY' }, 'palisade-v1');
    await h.set({ orgId, workspaceId: 'api', name: 'API_KEY' }, 'palisade-v2');
    await h.set({ orgId, workspaceId: 'api', name: 'DATABASE_URL' }, 'postgres://db');
    expect(await resolve(['API_KEY', 'DATABASE_URL'])).toEqual({
      API_KEY: 'palisade-v2',
      DATABASE_URL: 'postgres://db',
    });
    expect((await list()).map((s) => [s.name, s.version, s.backend, s.backendState])).toEqual([
      ['API_KEY', 2, 'ssm', 'ok'],
      ['DATABASE_URL', 1, 'ssm', 'ok'],
    ]);

    const sdk = h.running.app.get<SsmSecretBackend>(SECRET_BACKEND, { strict: false });
    await sdk.client.send(
      new PutParameterCommand({
        Name: `/palisade/${orgId}/api/API_KEY`,
        Value: 'written-outside',
        Type: 'SecureString',
        Overwrite: true,
      }),
    );
    expect(await resolve(['API_KEY'])).toEqual({ API_KEY: 'palisade-v2' });
    expect((await list())[0].backendState).toBe('changed_outside');
  });

  it('refuses the wake, recorded and with the reason, when SSM denies access or lost the value', async () => {
    endpoint.deny({ prefix: `/palisade/${orgId}/api/DATABASE_URL` });
    const denied = await resolve(['DATABASE_URL']);
    expect(denied).toEqual({
      error: {
        code: 'backend_failed',
        message: expect.stringContaining(
          `SSM refused GetParameters on /palisade/${orgId}/api/DATABASE_URL:1 (AccessDeniedException)`,
        ),
      },
    });
    endpoint.reset();
    const sdk = h.running.app.get<SsmSecretBackend>(SECRET_BACKEND, { strict: false });
    await sdk.delete(noDb, { orgId, workspaceId: 'api', name: 'DATABASE_URL' });
    expect(await resolve(['DATABASE_URL'])).toEqual({
      error: {
        code: 'backend_failed',
        message: expect.stringContaining(`SSM has no /palisade/${orgId}/api/DATABASE_URL:1`),
      },
    });
    expect((await list()).find((s) => s.name === 'DATABASE_URL')?.backendState).toBe('missing');
    const refused = (await h.events('inputs.refused')).filter((e) => e.data.orgId === orgId);
    expect(refused.map((e) => e.data.reason)).toEqual(['backend_failed', 'backend_failed']);
  });
});
