import { Controller, Inject } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { resolveRequestSchema, SECRETS, SECRETS_RPC } from '@palisade/contracts';
import type { ResolveReply } from '@palisade/contracts';
import type { Clock } from '@palisade/domain';
import { OnRequest, rpcSubject } from '@palisade/messaging';
import { CLOCK, parseInput } from '@palisade/runtime';
import { ResolveCommands } from '../commands/resolve.commands';

/**
 * Secrets over NATS request/reply: `rpc.secrets.resolve`, asked by the runtime-scheduler as a
 * runtime wakes. Errors (RuleErrors) go back as `{ error: { code, message } }`.
 */
@Controller()
export class SecretsRpcHandlers {
  constructor(
    private readonly resolves: ResolveCommands,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @OnRequest(SECRETS, rpcSubject(SECRETS, SECRETS_RPC.resolve))
  resolve(@Payload() body: unknown): Promise<ResolveReply> {
    const request = parseInput(resolveRequestSchema, body, { in: 'body', code: 'invalid_resolve' });
    return this.resolves.resolve(request, this.clock.now());
  }
}
