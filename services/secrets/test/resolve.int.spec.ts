import fc from 'fast-check';
import { SECRETS, resolveReplySchema } from '@palisade/contracts';
import type { ResolveReply } from '@palisade/contracts';
import { generateBoxKeyPair, openBox, SealedBoxError } from '@palisade/crypto';
import { uniqueId, waitFor } from '@palisade/testing';
import { SecretsHarness, startSecretsHarness } from './secrets.harness';

describe('rpc.secrets.resolve: declared inputs of a waking runtime, sealed to its key', () => {
  let h: SecretsHarness;

  beforeAll(async () => {
    h = await startSecretsHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  /** An organization with workspace `api` declaring `declared`, and values set for `values`. */
  async function setup(
    declared: string[],
    values: Record<string, string>,
    options: { devlinkWakeSecrets?: boolean } = {},
  ) {
    const orgId = uniqueId('org');
    for (const [name, value] of Object.entries(values))
      await h.set({ orgId, workspaceId: 'api', name }, value);
    await h.scheduler.workspace(orgId, 'api', declared, options);
    return orgId;
  }

  function open(
    reply: ResolveReply,
    privateKey: ReturnType<typeof generateBoxKeyPair>['privateKey'],
    runtimeId: string,
  ) {
    return JSON.parse(openBox(reply.sealed, privateKey, runtimeId).toString('utf8')) as Record<
      string,
      string
    >;
  }

  it('answers a wake at once (atLeast waits for the view), sealed so that only the runtime opens it, and records names and versions', async () => {
    const orgId = await setup(['API_KEY', 'DATABASE_URL'], {
      DATABASE_URL: 'postgres://u:p1@db/app',
      API_KEY: 'k-1',
    });
    await h.set({ orgId, workspaceId: 'api', name: 'API_KEY' }, 'k-2');
    const key = generateBoxKeyPair();
    const { runtimeId, sequence } = await h.scheduler.wake(orgId, 'api');
    // No waiting by the test: the request names the wake's sequence and secrets waits for it.
    const reply = await h.resolve({
      orgId,
      workspaceId: 'api',
      runtimeId,
      inputs: ['DATABASE_URL', 'API_KEY'],
      publicKey: key.publicKey,
      atLeast: sequence,
    });
    const parsed = resolveReplySchema.parse(reply);
    expect(parsed.versions).toEqual([
      { name: 'DATABASE_URL', version: 1 },
      { name: 'API_KEY', version: 2 },
    ]);
    expect(open(parsed, key.privateKey, runtimeId)).toEqual({
      DATABASE_URL: 'postgres://u:p1@db/app',
      API_KEY: 'k-2',
    });
    // Sealed: not openable by another key, nor as another runtime's reply.
    expect(() => open(parsed, generateBoxKeyPair().privateKey, runtimeId)).toThrow(SealedBoxError);
    const other = await h.scheduler.wake(orgId, 'api');
    expect(() => open(parsed, key.privateKey, other.runtimeId)).toThrow(SealedBoxError);
    expect(JSON.stringify(reply)).not.toContain('p1@db');

    const resolved = (await h.events('inputs.resolved')).filter((e) => e.data.orgId === orgId);
    expect(resolved).toHaveLength(1);
    expect(resolved[0].data).toEqual({
      orgId,
      workspaceId: 'api',
      runtimeId,
      inputs: [
        { name: 'DATABASE_URL', version: 1 },
        { name: 'API_KEY', version: 2 },
      ],
      resolvedAt: expect.any(String),
    });
  });

  it('says view_behind when the wake it names has not reached secrets in time, and records nothing', async () => {
    const orgId = await setup(['API_KEY'], { API_KEY: 'k' });
    const { runtimeId, sequence } = await h.scheduler.wake(orgId, 'api');
    const before = (await h.events()).length;
    const reply = await h.resolve({
      orgId,
      workspaceId: 'api',
      runtimeId,
      inputs: ['API_KEY'],
      publicKey: generateBoxKeyPair().publicKey,
      atLeast: sequence + 1_000,
    });
    expect(reply).toEqual({ error: { code: 'view_behind', message: expect.stringContaining('ask again') } });
    expect(await h.events()).toHaveLength(before);
  });

  describe('refuses, with a stable reason, and records every refusal (names only) for the audit log', () => {
    async function refusal(body: Record<string, unknown>, atLeast: number) {
      const reply = await h.resolve({ publicKey: generateBoxKeyPair().publicKey, atLeast, ...body });
      expect(reply).not.toHaveProperty('sealed');
      const { code, message } = reply.error as { code: string; message: string };
      return { code, message };
    }

    async function recorded(runtimeId: string) {
      return (await h.events('inputs.refused'))
        .filter((e) => e.data.runtimeId === runtimeId)
        .map((e) => e.data);
    }

    it('an input the workspace does not declare, and another workspace’s input', async () => {
      const orgId = await setup(['API_KEY'], { API_KEY: 'k', OTHER_TOKEN: 'o' });
      await h.scheduler.workspace(orgId, 'billing', ['BILLING_KEY']);
      await h.set({ orgId, workspaceId: 'billing', name: 'BILLING_KEY' }, 'b');
      const { runtimeId, sequence } = await h.scheduler.wake(orgId, 'api');
      const undeclared = await refusal(
        { orgId, workspaceId: 'api', runtimeId, inputs: ['API_KEY', 'OTHER_TOKEN'] },
        sequence,
      );
      expect(undeclared.code).toBe('undeclared_input');
      expect(undeclared.message).toContain('OTHER_TOKEN');
      const foreign = await refusal(
        { orgId, workspaceId: 'api', runtimeId, inputs: ['BILLING_KEY'] },
        sequence,
      );
      expect(foreign.code).toBe('undeclared_input');
      const posing = await refusal(
        { orgId, workspaceId: 'billing', runtimeId, inputs: ['BILLING_KEY'] },
        sequence,
      );
      expect(posing.code).toBe('runtime_other_workspace');
      const otherOrg = await refusal(
        { orgId: uniqueId('org'), workspaceId: 'api', runtimeId, inputs: [] },
        sequence,
      );
      expect(otherOrg.code).toBe('runtime_other_organization');
      expect(await recorded(runtimeId)).toEqual([
        expect.objectContaining({
          reason: 'undeclared_input',
          inputs: ['API_KEY', 'OTHER_TOKEN'],
          offending: ['OTHER_TOKEN'],
        }),
        expect.objectContaining({ reason: 'undeclared_input', inputs: ['BILLING_KEY'] }),
        expect.objectContaining({ reason: 'runtime_other_workspace', workspaceId: 'billing' }),
        expect.objectContaining({ reason: 'runtime_other_organization' }),
      ]);
    });

    it('a runtime that is not waking: never asked to wake, started, failed', async () => {
      const orgId = await setup(['API_KEY'], { API_KEY: 'k' });
      const unknown = await refusal(
        { orgId, workspaceId: 'api', runtimeId: '0193a1b2-0000-7000-8000-00000000beef', inputs: ['API_KEY'] },
        0,
      );
      expect(unknown.code).toBe('runtime_unknown');
      for (const end of ['started', 'failed'] as const) {
        const { runtimeId } = await h.scheduler.wake(orgId, 'api');
        const ended = await h.scheduler[end](orgId, 'api', runtimeId);
        const refused = await refusal({ orgId, workspaceId: 'api', runtimeId, inputs: ['API_KEY'] }, ended);
        expect({ end, code: refused.code }).toEqual({ end, code: 'runtime_not_waking' });
      }
    });

    it('a runtime a reviewer’s dev link woke, unless the workspace allows secrets then', async () => {
      const orgId = await setup(['API_KEY'], { API_KEY: 'k' });
      const link = await h.scheduler.wake(orgId, 'api', 'devlink');
      const refused = await refusal(
        { orgId, workspaceId: 'api', runtimeId: link.runtimeId, inputs: ['API_KEY'] },
        link.sequence,
      );
      expect(refused.code).toBe('devlink_wake_without_secrets');
      // Nothing asked, nothing refused: a preview without secrets still wakes.
      const empty = await h.resolve({
        orgId,
        workspaceId: 'api',
        runtimeId: link.runtimeId,
        inputs: [],
        publicKey: generateBoxKeyPair().publicKey,
        atLeast: link.sequence,
      });
      expect(resolveReplySchema.parse(empty).versions).toEqual([]);

      await h.scheduler.workspace(orgId, 'api', ['API_KEY'], { devlinkWakeSecrets: true, update: true });
      const allowed = await h.scheduler.wake(orgId, 'api', 'devlink');
      const key = generateBoxKeyPair();
      const reply = resolveReplySchema.parse(
        await h.resolve({
          orgId,
          workspaceId: 'api',
          runtimeId: allowed.runtimeId,
          inputs: ['API_KEY'],
          publicKey: key.publicKey,
          atLeast: allowed.sequence,
        }),
      );
      expect(open(reply, key.privateKey, allowed.runtimeId)).toEqual({ API_KEY: 'k' });
    });

    it('a deleted secret the workspace still declares: the wake fails with a clear reason', async () => {
      const orgId = await setup(['API_KEY', 'DATABASE_URL'], { API_KEY: 'k', DATABASE_URL: 'd' });
      await h.delete({ orgId, workspaceId: 'api', name: 'DATABASE_URL' });
      const { runtimeId, sequence } = await h.scheduler.wake(orgId, 'api');
      const missing = await refusal(
        { orgId, workspaceId: 'api', runtimeId, inputs: ['API_KEY', 'DATABASE_URL'] },
        sequence,
      );
      expect(missing.code).toBe('secret_missing');
      expect(missing.message).toBe(
        'no value is set for DATABASE_URL (never set, or deleted): set it with palisade secret set, or remove it from the manifest',
      );
      expect(await recorded(runtimeId)).toEqual([
        expect.objectContaining({ reason: 'secret_missing', offending: ['DATABASE_URL'] }),
      ]);
    });

    it('the manifest as of the wake: an input declared later is refused to a runtime already waking', async () => {
      const orgId = await setup(['API_KEY'], { API_KEY: 'k', NEW_KEY: 'n' });
      const { runtimeId } = await h.scheduler.wake(orgId, 'api');
      const updated = await h.scheduler.workspace(orgId, 'api', ['API_KEY', 'NEW_KEY'], { update: true });
      expect(
        (await refusal({ orgId, workspaceId: 'api', runtimeId, inputs: ['NEW_KEY'] }, updated)).code,
      ).toBe('undeclared_input');
    });
  });

  it('refuses malformed requests (fast-check) with invalid_resolve, records nothing, and keeps answering', async () => {
    const before = (await h.events()).length;
    const codes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 100 }),
          fc.jsonValue({ maxDepth: 3 }),
          fc.record({
            orgId: fc.oneof(fc.constant('acme'), fc.string({ maxLength: 70 })),
            workspaceId: fc.oneof(fc.constant('api'), fc.string({ maxLength: 70 })),
            runtimeId: fc.oneof(fc.uuid(), fc.string()),
            inputs: fc.array(
              fc.oneof(
                fc.constant('API_KEY'),
                fc.constant('../etc/passwd'),
                fc.constant('A/../B'),
                fc.string(),
              ),
              { maxLength: 5 },
            ),
            publicKey: fc.oneof(fc.constant('A'.repeat(43)), fc.string({ maxLength: 50 })),
            atLeast: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double()),
          }),
        ),
        async (body) => {
          const reply = await h.resolve(body);
          const code = (reply.error as { code?: string } | undefined)?.code;
          codes.add(code ?? 'no-error');
          expect(code).toBeDefined();
          expect(code).not.toBe('internal_error');
        },
      ),
      { numRuns: 60 },
    );
    expect(codes.has('invalid_resolve') || codes.has('invalid_json')).toBe(true);
    // A low-order public key is refused before anything is read or recorded.
    const lowOrder = await h.resolve({
      orgId: 'acme',
      workspaceId: 'api',
      runtimeId: '0193a1b2-0000-7000-8000-000000000001',
      inputs: [],
      publicKey: Buffer.alloc(32).toString('base64url'),
    });
    expect(lowOrder).toEqual({ error: { code: 'invalid_resolve', message: expect.any(String) } });
    // Nothing resolved; a well-formed body about an unknown runtime is a refusal, and recorded as one.
    expect((await h.events()).slice(before).map((e) => e.type)).toEqual(
      expect.not.arrayContaining(['inputs.resolved']),
    );
  });

  it('publishes what it records on EVT_SECRETS: names and versions, never a value', async () => {
    const orgId = await setup(['API_KEY'], { API_KEY: 'published-value-canary' });
    const { runtimeId, sequence } = await h.scheduler.wake(orgId, 'api');
    const key = generateBoxKeyPair();
    await h.resolve({
      orgId,
      workspaceId: 'api',
      runtimeId,
      inputs: ['API_KEY'],
      publicKey: key.publicKey,
      atLeast: sequence,
    });
    const jsm = await h.admin.jetstreamManager();
    const messages = await waitFor(
      async () => {
        const texts: string[] = [];
        const info = await jsm.streams.info(SECRETS.stream);
        for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++)
          texts.push(new TextDecoder().decode((await jsm.streams.getMessage(SECRETS.stream, { seq })).data));
        return texts.some((t) => t.includes(runtimeId) && t.includes('inputs.resolved')) && texts;
      },
      { description: 'inputs.resolved on EVT_SECRETS' },
    );
    expect(messages.join('\n')).toContain('API_KEY');
    expect(messages.join('\n')).not.toContain('published-value-canary');
  });
});
