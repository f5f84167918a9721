import {
  applyDecorators,
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Inject,
  Injectable,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth } from '@nestjs/swagger';
import { authzResourceSchema, orgIdSchema } from '@palisade/contracts';
import type { AuthzAction, AuthzCheck, AuthzDecision, AuthzResource } from '@palisade/contracts';
import { RuleError } from '@palisade/domain';
import { parseInput, SERVICE_LOGGER } from '@palisade/runtime';
import type { Request } from 'express';
import type { Logger } from 'pino';
import { AccessTokenGuard, principalOf } from './access-token.guard';
import { actorOf, authzSubjectOf, Principal } from './principal';

/** Injection token of what the PermissionGuard asks: authorization over NATS, or (inside authorization) its own view. */
export const PERMISSION_CHECKER = Symbol.for('palisade.auth.permission-checker');

/** Decides checks. Unavailable means an error (the guard answers 503), never "allowed". */
export interface PermissionChecker {
  check(check: AuthzCheck): Promise<AuthzDecision> | AuthzDecision;
}

/** What a resource is read from: the verified principal and the request's path, query and body. */
export interface PermissionRequest {
  principal: Principal;
  params: Record<string, string | undefined>;
  query: Record<string, unknown>;
  body: unknown;
}

/** The resource a route acts on, from its request; throw a RuleError for a request that names none. */
export type ResourceFrom = (request: PermissionRequest) => AuthzResource;

export interface PermissionOptions {
  /**
   * The one answer of this route to every refusal, instead of the default (outsiders: 404
   * `org_not_found`; members: 403 with the deny reason as code), all 403. Members still get the
   * reason named in the sentence; outsiders never do.
   */
  denied?: { code: string; message: string };
  /**
   * The route changes state although its action is a read one (`org.read` for leaving an
   * organization, where the domain decides the rest): a read-only API token is refused
   * (`token_read_only`). Write actions need no flag; the policy table refuses read tokens.
   */
  write?: boolean;
}

interface RequiredPermission {
  action: AuthzAction;
  resourceFrom: ResourceFrom;
  options: PermissionOptions;
}

const REQUIRED_PERMISSION = Symbol.for('palisade.auth.required-permission');
/** The request property the guard puts the checked resource on. */
const CHECKED_RESOURCE = Symbol.for('palisade.auth.checked-resource');

/** The resource @RequirePermission checked for this request (e.g. the organization an API token acts in). */
export const CheckedResource = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const resource = context.switchToHttp().getRequest<{ [CHECKED_RESOURCE]?: AuthzResource }>()[
    CHECKED_RESOURCE
  ];
  if (!resource) throw new Error('@CheckedResource() needs @RequirePermission(...) on the route');
  return resource;
});

/**
 * Deny reasons that mean "not in this organization". They would tell an outsider whether the
 * organization exists (and whose token belongs where), so every outsider gets one answer.
 */
const OUTSIDER_REASONS = new Set(['unknown_organization', 'not_a_member', 'token_other_organization']);

const READ_ONLY: AuthzDecision = Object.freeze({ allowed: false, reason: 'token_read_only' });

/** The uniform answer to outsiders (the same whether the organization exists or not). */
export const OUTSIDER_DENIAL = {
  status: 404,
  code: 'org_not_found',
  message: 'There is no such organization, or you are not a member of it.',
} as const;

/** A refused permission: 403 with the reason for members, the uniform answer for outsiders. */
export class PermissionDeniedError extends RuleError {
  override readonly name = 'PermissionDeniedError';
}

/**
 * The resource from path parameters named like its fields: `fromPath('orgId', 'workspaceId')`
 * reads `:orgId` and `:workspaceId`, each validated by the resource schema (a bad one is a 400
 * naming the parameter, before any question is asked).
 */
export function fromPath(...fields: readonly (keyof AuthzResource & string)[]): ResourceFrom {
  return ({ params }) => {
    const resource: Record<string, unknown> = {};
    for (const field of fields)
      resource[field] = parseInput(authzResourceSchema.shape[field], params[field], {
        in: 'path',
        name: field,
      });
    return resource as AuthzResource;
  };
}

/**
 * The caller's own organization: an API token's, else the one named in `?<param>=` (a user may
 * belong to several). `code` is the 400's code when the parameter is not an organization id.
 */
export function fromCallerOrganization(param = 'org', options: { code?: string } = {}): ResourceFrom {
  return ({ principal, query }) => {
    if (principal.kind === 'api_token') return { orgId: principal.orgId };
    if (query[param] === undefined)
      throw new RuleError(400, 'org_required', `Name the organization: ?${param}=<orgId>.`);
    return { orgId: parseInput(orgIdSchema, query[param], { in: 'query', name: param, code: options.code }) };
  };
}

/**
 * The permission a route needs, checked before its handler runs: the caller's credential is
 * verified (AccessTokenGuard), the resource is read from the request, and authorization decides
 * `action` on it. Put it on every route that acts on an organization, so a missing check shows in
 * review:
 *
 *     @Put('orgs/:orgId/root-policy')
 *     @RequirePermission('policy.change', fromPath('orgId'))
 *
 * Outsiders (no member, unknown organization, another organization's token) all get one answer
 * that does not say whether the organization exists; members get the named reason. Every refusal
 * is logged with its reason.
 */
export function RequirePermission(
  action: AuthzAction,
  resourceFrom: ResourceFrom,
  options: PermissionOptions = {},
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(REQUIRED_PERMISSION, { action, resourceFrom, options } satisfies RequiredPermission),
    UseGuards(AccessTokenGuard, PermissionGuard),
    ApiBearerAuth(),
  );
}

/** Enforces @RequirePermission (after AccessTokenGuard has put the principal on the request). */
@Injectable()
export class PermissionGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(PERMISSION_CHECKER) private readonly checker: PermissionChecker,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const required = this.reflector.getAllAndOverride<RequiredPermission | undefined>(REQUIRED_PERMISSION, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!required) return true;
    const request = context.switchToHttp().getRequest<Request>();
    const principal = principalOf(request);
    const resource = required.resourceFrom({
      principal,
      params: (request.params ?? {}) as Record<string, string | undefined>,
      query: (request.query ?? {}) as Record<string, unknown>,
      body: request.body,
    });
    const check: AuthzCheck = { subject: authzSubjectOf(principal), action: required.action, resource };
    const decision =
      required.options.write && principal.kind === 'api_token' && principal.scope !== 'write'
        ? READ_ONLY
        : await this.checker.check(check);
    if (decision.allowed) {
      (request as { [CHECKED_RESOURCE]?: AuthzResource })[CHECKED_RESOURCE] = resource;
      return true;
    }
    const outsider = OUTSIDER_REASONS.has(decision.reason);
    this.logger.info(
      { actor: actorOf(principal), action: required.action, resource, reason: decision.reason, outsider },
      'permission denied',
    );
    throw denial(required, decision.reason, outsider);
  }
}

function denial({ action, options }: RequiredPermission, reason: string, outsider: boolean): RuleError {
  if (options.denied) {
    const { code, message } = options.denied;
    return outsider
      ? new PermissionDeniedError(403, code, message)
      : new PermissionDeniedError(403, code, `${message.replace(/\.$/, '')} (${reason}).`);
  }
  if (outsider)
    return new PermissionDeniedError(OUTSIDER_DENIAL.status, OUTSIDER_DENIAL.code, OUTSIDER_DENIAL.message);
  return new PermissionDeniedError(403, reason, `${action} is not allowed here (${reason}).`);
}
