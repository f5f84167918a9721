import { Controller, DynamicModule, Injectable, Module } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { serviceConfigSchema } from '@palisade/config';
import { AUTHORIZATION, AUTHORIZATION_EVENTS, AUTHZ_RPC, authzCheckRequestSchema } from '@palisade/contracts';
import type { AuthorizationEvent, AuthzCheck, AuthzCheckReply, AuthzDecision } from '@palisade/contracts';
import { OnRequest, rpcSubject } from '@palisade/messaging';
import {
  defineService,
  ServiceRuntime,
  ServiceRuntimeModule,
  serviceRuntimeOptions,
} from '@palisade/runtime';

/**
 * Stands in for the authorization service (a service may not load another's code): its real
 * event stream and replay (org.created, appended through the event store as authorization
 * does) and `rpc.authorization.check` over a small policy: owners of an organization may do
 * anything in it (host.manage on `system` included), members may read it.
 */
@Injectable()
export class Organizations {
  private readonly roles = new Map<string, Map<string, 'owner' | 'member'>>();
  constructor(private readonly runtime: ServiceRuntime) {}

  async create(orgId: string, owner: string, members: string[] = []): Promise<void> {
    const event: AuthorizationEvent = { type: 'org.created', data: { orgId, name: orgId, owner } };
    await this.runtime.store.append(this.runtime.db, {
      streamId: `org/${orgId}`,
      expectedVersion: 0,
      events: [event],
      metadata: { orgId, actor: `user:${owner}` },
    });
    this.roles.set(orgId, new Map([[owner, 'owner'], ...members.map((m) => [m, 'member'] as const)]));
  }

  check({ subject, action, resource }: AuthzCheck): AuthzDecision {
    const org = this.roles.get(resource.orgId);
    if (!org) return { allowed: false, reason: 'unknown_organization' };
    if (subject.kind !== 'user') return { allowed: false, reason: 'insufficient_role' };
    const role = org.get(subject.userId);
    if (!role) return { allowed: false, reason: 'not_a_member' };
    if (role === 'owner') return { allowed: true, reason: 'role:owner' };
    return action === 'org.read'
      ? { allowed: true, reason: 'role:member' }
      : { allowed: false, reason: 'insufficient_role' };
  }
}

@Controller()
class StandInChecks {
  constructor(private readonly organizations: Organizations) {}

  @OnRequest(AUTHORIZATION, rpcSubject(AUTHORIZATION, AUTHZ_RPC.check))
  check(@Payload() body: unknown): AuthzCheckReply {
    const { checks } = authzCheckRequestSchema.parse(body);
    return { decisions: checks.map((c) => this.organizations.check(c)), sequence: 0 };
  }
}

@Module({})
class StandInModule {
  static register(config: Record<string, unknown>): DynamicModule {
    return {
      module: StandInModule,
      imports: [
        ServiceRuntimeModule.forService(
          serviceRuntimeOptions(AUTHORIZATION, AUTHORIZATION_EVENTS, {}, config),
        ),
      ],
      controllers: [StandInChecks],
      providers: [Organizations],
      exports: [Organizations],
    };
  }
}

export const authorizationStandIn = defineService({
  context: AUTHORIZATION,
  configSchema: serviceConfigSchema(AUTHORIZATION.context, {}),
  migrations: {},
  module: (config) => StandInModule.register(config),
});
