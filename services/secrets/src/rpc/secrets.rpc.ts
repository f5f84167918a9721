import { Controller } from '@nestjs/common';
import { Payload, RpcException } from '@nestjs/microservices';
import { formatIssues, resolveRequestSchema, SECRETS, SECRETS_RPC } from '@palisade/contracts';
import type { ResolveReply } from '@palisade/contracts';
import { OnRequest, rpcSubject } from '@palisade/messaging';
import { ResolveCommands, ResolveRefused } from '../commands/resolve.commands';
import { SecretRuleError } from '../domain/secret-rule.error';

/** Secrets over NATS request/reply: `rpc.secrets.resolve`, asked by the runtime-scheduler as a runtime wakes. */
@Controller()
export class SecretsRpcHandlers {
  constructor(private readonly resolves: ResolveCommands) {}

  @OnRequest(SECRETS, rpcSubject(SECRETS, SECRETS_RPC.resolve))
  async resolve(@Payload() body: unknown): Promise<ResolveReply> {
    const parsed = resolveRequestSchema.safeParse(body);
    if (!parsed.success)
      throw new RpcException({ code: 'invalid_resolve', message: formatIssues(parsed.error).join('; ') });
    try {
      return await this.resolves.resolve(parsed.data);
    } catch (error) {
      if (error instanceof ResolveRefused || error instanceof SecretRuleError)
        throw new RpcException({ code: error.code, message: error.message });
      throw error;
    }
  }
}
