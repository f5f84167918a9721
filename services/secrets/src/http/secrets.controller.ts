import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { actorOf, authzSubjectOf, CurrentPrincipal, fromPath, RequirePermission } from '@palisade/auth';
import type { Principal } from '@palisade/auth';
import { secretNameSchema, setSecretBodySchema } from '@palisade/contracts';
import type { SecretListReply, SetSecretReply } from '@palisade/contracts';
import type { Clock } from '@palisade/domain';
import { CLOCK, validate } from '@palisade/runtime';
import { z } from 'zod';
import { SecretCommands } from '../commands/secret.commands';
import { SecretQueries } from '../queries/secret.queries';

/** The user a change is recorded as: the person, or the owner of the API token. */
function changedBy(principal: Principal): string {
  return (authzSubjectOf(principal) as { userId: string }).userId;
}

/**
 * Secrets of a workspace over HTTP: set a value (from the body), list metadata, delete. No route
 * ever answers with a value: values only leave the service sealed to a waking runtime.
 */
@ApiTags('secrets')
@Controller('v1/secrets/:orgId/:workspaceId')
export class SecretsController {
  constructor(
    private readonly commands: SecretCommands,
    private readonly queries: SecretQueries,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get()
  @RequirePermission('secret.read_metadata', fromPath('orgId', 'workspaceId'))
  @ApiOperation({
    summary: "The workspace's secrets: names, versions, who changed them and when (never values)",
  })
  async list(
    @Param('orgId') orgId: string,
    @Param('workspaceId') workspaceId: string,
  ): Promise<SecretListReply> {
    return { secrets: await this.queries.list(orgId, workspaceId) };
  }

  @Put(':name')
  @RequirePermission('secret.write', fromPath('orgId', 'workspaceId'))
  @ApiOperation({
    summary:
      'Set a value: { "value": "..." }, UTF-8, 1..4096 bytes, no NUL; the name matches ^[A-Z][A-Z0-9_]*$ (at most 128)',
  })
  async set(
    @Param('orgId') orgId: string,
    @Param('workspaceId') workspaceId: string,
    @Param('name', validate(secretNameSchema)) name: string,
    @Body(validate(setSecretBodySchema)) body: z.infer<typeof setSecretBodySchema>,
    @CurrentPrincipal() principal: Principal,
  ): Promise<SetSecretReply> {
    const { version, created } = await this.commands.set(
      { orgId, workspaceId, name },
      body.value,
      changedBy(principal),
      actorOf(principal),
      this.clock.now(),
    );
    return { name, version, created };
  }

  @Delete(':name')
  @HttpCode(200)
  @RequirePermission('secret.write', fromPath('orgId', 'workspaceId'))
  @ApiOperation({
    summary: 'Delete a secret (every version); a workspace that still declares it fails to wake',
  })
  async delete(
    @Param('orgId') orgId: string,
    @Param('workspaceId') workspaceId: string,
    @Param('name', validate(secretNameSchema)) name: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<{ name: string; deleted: true }> {
    await this.commands.delete({ orgId, workspaceId, name }, changedBy(principal), actorOf(principal));
    return { name, deleted: true };
  }
}
