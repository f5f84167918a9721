import { Body, Controller, Get, INestApplication, Module, Param, Post, Put } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type { AuthzCheck, AuthzDecision } from '@palisade/contracts';
import { orgRoleSchema } from '@palisade/contracts';
import { RuleError } from '@palisade/domain';
import { HttpErrorFilter, ROOT_LOGGER, SERVICE_LOGGER, validate } from '@palisade/runtime';
import pino from 'pino';
import { z } from 'zod';
import {
  ACCESS_TOKEN_VERIFIER,
  AuthError,
  CurrentPrincipal,
  fromCallerOrganization,
  fromPath,
  PERMISSION_CHECKER,
  RequirePermission,
} from '../src';
import type { PermissionChecker, Principal } from '../src';

/** Stands in for identity: bearer tokens named after their holders. */
const principals: Record<string, Principal> = {
  olga: { kind: 'user', userId: 'olga', sessionId: 's-olga', tokenId: 't-olga', expiresAt: 4e9 },
  rex: { kind: 'user', userId: 'rex', sessionId: 's-rex', tokenId: 't-rex', expiresAt: 4e9 },
  mallory: { kind: 'user', userId: 'mallory', sessionId: 's-m', tokenId: 't-m', expiresAt: 4e9 },
  'acme-ci': {
    kind: 'api_token',
    tokenId: 'ci',
    userId: 'olga',
    orgId: 'acme',
    scope: 'read',
    expiresAt: 4e9,
  },
};

/** Stands in for authorization: the members of `acme` and what each may do. */
class Policy implements PermissionChecker {
  readonly asked: AuthzCheck[] = [];
  check(check: AuthzCheck): AuthzDecision {
    this.asked.push(check);
    const { subject, action, resource } = check;
    if (resource.orgId !== 'acme') return { allowed: false, reason: 'unknown_organization' };
    if (subject.kind === 'api_token' && subject.orgId !== 'acme')
      return { allowed: false, reason: 'token_other_organization' };
    const userId = subject.kind === 'dev_session' ? '' : subject.userId;
    if (userId === 'olga') return { allowed: true, reason: 'role:owner' };
    if (userId === 'rex')
      return action === 'org.read'
        ? { allowed: true, reason: 'role:reviewer' }
        : { allowed: false, reason: 'insufficient_role' };
    return { allowed: false, reason: 'not_a_member' };
  }
}

@Controller('v1/orgs')
class OrgsController {
  @Get(':orgId')
  @RequirePermission('org.read', fromPath('orgId'))
  read(@Param('orgId') orgId: string, @CurrentPrincipal() principal: Principal) {
    return { orgId, reader: principal.kind };
  }

  @Put(':orgId/members/:userId/role')
  @RequirePermission('member.manage', fromPath('orgId'))
  changeRole(
    @Param('userId', validate(z.string().regex(/^[a-z]{1,20}$/))) userId: string,
    @Body(validate(z.object({ role: orgRoleSchema }).strict())) body: { role: string },
  ) {
    if (userId === 'olga') throw new RuleError(409, 'last_owner', 'The last owner keeps the owner role.');
    return { userId, role: body.role };
  }

  @Post('audit')
  @RequirePermission('audit.read', fromCallerOrganization(), {
    denied: { code: 'audit_read_denied', message: 'Reading this audit log is not allowed.' },
  })
  audit() {
    return { ok: true };
  }
}

describe('the service edge: @RequirePermission, the validation pipe and the problem answer', () => {
  const policy = new Policy();
  const logged: Array<Record<string, unknown>> = [];
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    @Module({
      controllers: [OrgsController],
      providers: [
        { provide: ROOT_LOGGER, useValue: logger },
        { provide: SERVICE_LOGGER, useValue: logger },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: PERMISSION_CHECKER, useValue: policy },
        {
          provide: ACCESS_TOKEN_VERIFIER,
          useValue: {
            verify: async (token: string | undefined) => {
              if (!token) throw new AuthError('token_missing');
              const principal = principals[token];
              if (!principal) throw new AuthError('token_signature_invalid');
              return principal;
            },
          },
        },
      ],
    })
    class EdgeModule {}
    const moduleRef = await Test.createTestingModule({ imports: [EdgeModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(() => app?.close());

  async function call(method: string, path: string, token?: string, body?: unknown) {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  it('lets a permitted caller through, with the resource read from the path', async () => {
    expect(await call('GET', '/v1/orgs/acme', 'rex')).toMatchObject({
      status: 200,
      body: { orgId: 'acme', reader: 'user' },
    });
    expect(policy.asked.at(-1)).toEqual({
      subject: { kind: 'user', userId: 'rex' },
      action: 'org.read',
      resource: { orgId: 'acme' },
    });
  });

  it('answers a missing or bad credential 401 before asking anything', async () => {
    const asked = policy.asked.length;
    expect(await call('GET', '/v1/orgs/acme')).toMatchObject({
      status: 401,
      body: { code: 'token_missing' },
    });
    expect(await call('GET', '/v1/orgs/acme', 'forged')).toMatchObject({
      status: 401,
      body: { error: { code: 'token_signature_invalid' } },
    });
    expect(policy.asked.length).toBe(asked);
  });

  it('gives a member the named reason and every outsider one answer, whether the organization exists or not', async () => {
    const member = await call('PUT', '/v1/orgs/acme/members/bob/role', 'rex', { role: 'admin' });
    expect(member).toMatchObject({ status: 403, body: { code: 'insufficient_role' } });
    expect(String(member.body.detail)).toContain('insufficient_role');

    const outsiders = [
      await call('GET', '/v1/orgs/acme', 'mallory'), // exists, not a member
      await call('GET', '/v1/orgs/nowhere', 'mallory'), // does not exist
      await call('GET', '/v1/orgs/nowhere', 'olga'), // a member elsewhere
    ];
    for (const outsider of outsiders) {
      expect(outsider.status).toBe(404);
      expect(outsider.body).toEqual(outsiders[0].body);
    }
    expect(outsiders[0].body).toMatchObject({ code: 'org_not_found' });
    expect(JSON.stringify(outsiders[0].body)).not.toMatch(/not_a_member|unknown_organization/);
    // The log has the detailed reason of each refusal.
    expect(logged.filter((l) => l.msg === 'permission denied').map((l) => l.reason)).toEqual(
      expect.arrayContaining(['insufficient_role', 'not_a_member', 'unknown_organization']),
    );
  });

  it("answers with a route's own denial code when it has one, and the reason only to members", async () => {
    const outsider = await call('POST', '/v1/orgs/audit?org=nowhere', 'mallory');
    const member = await call('POST', '/v1/orgs/audit?org=acme', 'rex');
    expect(outsider).toMatchObject({ status: 403, body: { code: 'audit_read_denied' } });
    expect(member).toMatchObject({ status: 403, body: { code: 'audit_read_denied' } });
    expect(outsider.body.detail).toBe('Reading this audit log is not allowed.');
    expect(member.body.detail).toBe('Reading this audit log is not allowed (insufficient_role).');
    expect(await call('POST', '/v1/orgs/audit', 'rex')).toMatchObject({
      status: 400,
      body: { code: 'org_required' },
    });
    // An API token reads its own organization, whatever it names.
    expect(await call('POST', '/v1/orgs/audit', 'acme-ci')).toMatchObject({ status: 201 });
  });

  it('refuses a bad path parameter in the resource with a 400 that names it, before asking', async () => {
    const asked = policy.asked.length;
    const bad = await call('GET', '/v1/orgs/not%20an%20org', 'olga');
    expect(bad).toMatchObject({ status: 400, body: { code: 'invalid_request' } });
    expect(bad.body.errors).toEqual([{ in: 'path', pointer: '#/orgId', detail: expect.any(String) }]);
    expect(policy.asked.length).toBe(asked);
  });

  it('answers bad input and rule errors as problem+json with every failing field', async () => {
    const invalid = await call('PUT', '/v1/orgs/acme/members/Bob/role', 'olga', { role: 'admin' });
    expect(invalid.status).toBe(400);
    expect(invalid.type).toMatch(/^application\/problem\+json/);
    expect(invalid.body).toEqual({
      type: 'urn:palisade:error:invalid_request',
      title: 'Bad Request',
      status: 400,
      code: 'invalid_request',
      detail: 'The path is not valid: userId must match /^[a-z]{1,20}$/.',
      errors: [{ in: 'path', pointer: '#/userId', detail: 'must match /^[a-z]{1,20}$/' }],
      error: {
        code: 'invalid_request',
        message: 'The path is not valid: userId must match /^[a-z]{1,20}$/.',
      },
    });
    const body = await call('PUT', '/v1/orgs/acme/members/bob/role', 'olga', { role: 'king', extra: 1 });
    expect(body.body.errors).toEqual([
      { in: 'body', pointer: '#/role', detail: 'must be one of: owner, admin, member, reviewer' },
      { in: 'body', pointer: '#/extra', detail: 'is not allowed here (allowed: role)' },
    ]);
    const rule = await call('PUT', '/v1/orgs/acme/members/olga/role', 'olga', { role: 'admin' });
    expect(rule).toMatchObject({
      status: 409,
      body: { type: 'urn:palisade:error:last_owner', title: 'Conflict', status: 409, code: 'last_owner' },
    });
    expect(rule.body.error).toEqual({ code: 'last_owner', message: 'The last owner keeps the owner role.' });
  });
});
