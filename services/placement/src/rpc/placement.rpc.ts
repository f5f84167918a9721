import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  formatIssues,
  PLACEMENT,
  PLACEMENT_RPC,
  placeRequestSchema,
  unplaceRequestSchema,
} from '@palisade/contracts';
import type { PlaceReply, UnplaceReply } from '@palisade/contracts';
import { OnRequest, rpcSubject } from '@palisade/messaging';
import { RpcException } from '@nestjs/microservices';
import { PlacementCommands } from '../commands/placement.commands';

/** Who asks placement over NATS: the runtime-scheduler, the one caller of these subjects. */
const CALLER = 'service:runtime-scheduler';

/**
 * Placement over NATS request/reply: `rpc.placement.place` (answered by runtime.placed or
 * placement.failed, and the reply) and `rpc.placement.unplace`.
 */
@Controller()
export class PlacementRpcHandlers {
  constructor(private readonly placements: PlacementCommands) {}

  @OnRequest(PLACEMENT, rpcSubject(PLACEMENT, PLACEMENT_RPC.place))
  async place(@Payload() body: unknown): Promise<PlaceReply> {
    const parsed = placeRequestSchema.safeParse(body);
    if (!parsed.success)
      return {
        placed: false,
        reason: 'invalid_request',
        message: formatIssues(parsed.error).join('; ').slice(0, 500),
      };
    return this.placements.place(parsed.data, CALLER);
  }

  @OnRequest(PLACEMENT, rpcSubject(PLACEMENT, PLACEMENT_RPC.unplace))
  async unplace(@Payload() body: unknown): Promise<UnplaceReply> {
    const parsed = unplaceRequestSchema.safeParse(body);
    if (!parsed.success)
      throw new RpcException({ code: 'invalid_request', message: 'send { runtimeId } (a UUID)' });
    return { released: await this.placements.unplace(parsed.data.runtimeId, 'unplaced', CALLER) };
  }
}
