import { Controller, Inject } from '@nestjs/common';
import { Payload, RpcException } from '@nestjs/microservices';
import {
  AUTHORIZATION,
  AUTHZ_RPC,
  authzCheckRequestSchema,
  formatIssues,
  orgIdSchema,
} from '@palisade/contracts';
import type { AuthzCheckReply, EffectivePolicyPack } from '@palisade/contracts';
import type { Clock } from '@palisade/domain';
import { OnRequest, rpcSubject } from '@palisade/messaging';
import { CLOCK } from '@palisade/runtime';
import { z } from 'zod';
import { authzRpcDuration } from '../authz.metrics';
import { AuthzViewProjection } from '../projections/authz-view.projection';

const policyPackRequest = z.object({ orgId: orgIdSchema }).strict();

/** Authorization over NATS request/reply: `rpc.authorization.check` and `.policy-pack`. */
@Controller()
export class AuthzRpcHandlers {
  private readonly duration = authzRpcDuration();

  constructor(
    private readonly projection: AuthzViewProjection,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @OnRequest(AUTHORIZATION, rpcSubject(AUTHORIZATION, AUTHZ_RPC.check))
  async check(@Payload() body: unknown): Promise<AuthzCheckReply> {
    const end = this.duration.startTimer();
    try {
      return await this.answer(body);
    } finally {
      end();
    }
  }

  private async answer(body: unknown): Promise<AuthzCheckReply> {
    const parsed = authzCheckRequestSchema.safeParse(body);
    if (!parsed.success)
      throw new RpcException({ code: 'invalid_check', message: formatIssues(parsed.error).join('; ') });
    const { checks, atLeast } = parsed.data;
    if (atLeast !== undefined && !(await this.projection.reach(atLeast)))
      throw new RpcException({
        code: 'view_behind',
        message: `decisions do not reflect event ${atLeast} yet; ask again`,
      });
    const view = this.projection.view;
    const now = this.clock.now();
    return { decisions: checks.map((c) => view.check(c, now)), sequence: view.sequence };
  }

  @OnRequest(AUTHORIZATION, rpcSubject(AUTHORIZATION, AUTHZ_RPC.policyPack))
  policyPack(@Payload() body: unknown): EffectivePolicyPack {
    const parsed = policyPackRequest.safeParse(body);
    if (!parsed.success) throw new RpcException({ code: 'invalid_request', message: 'send { orgId }' });
    const pack = this.projection.view.policyPack(parsed.data.orgId);
    if (!pack) throw new RpcException({ code: 'org_not_found', message: 'there is no such organization' });
    return pack;
  }
}
