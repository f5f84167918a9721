import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { apiError, validate } from '@palisade/runtime';
import { z } from 'zod';
import { publicKeyPem, rawPublicKey } from '../domain';
import { checkpointAt, latestCheckpoint, readCheckpoints } from '../log/audit-log.repository';
import { AuditLogService } from '../log/audit-log.service';
import { buildConsistencyProof, buildInclusionProof } from '../log/proofs';
import { INVALID_QUERY, pageLimit, positiveInt } from './query';

const inclusionQuery = z.object({ sequence: positiveInt(), treeSize: positiveInt().optional() }).strict();
const consistencyQuery = z.object({ from: positiveInt(), to: positiveInt() }).strict();
const checkpointsQuery = z.object({ after: positiveInt().optional(), limit: pageLimit() }).strict();

/**
 * What anyone may check the log against, without access to its contents: the public key, the
 * signed checkpoints, and RFC 6962 inclusion and consistency proofs (hashes only).
 */
@ApiTags('audit')
@Controller('v1/audit')
export class AuditProofsController {
  constructor(private readonly log: AuditLogService) {}

  @Get('public-key')
  @ApiOperation({ summary: 'The Ed25519 key that signs checkpoints' })
  async publicKey() {
    const key = await this.log.publicKey();
    return {
      algorithm: 'Ed25519',
      keyId: await this.log.publicKeyId(),
      publicKey: rawPublicKey(key).toString('base64'),
      pem: publicKeyPem(key),
    };
  }

  @Get('checkpoints')
  @ApiOperation({ summary: 'Signed checkpoints in the order they were issued' })
  @ApiQuery({ name: 'after', required: false, description: 'only checkpoints above this tree size' })
  @ApiQuery({ name: 'limit', required: false, description: '1..1000, default 100' })
  async checkpoints(
    @Query(validate(checkpointsQuery, INVALID_QUERY))
    { after = 0, limit = 100 }: z.infer<typeof checkpointsQuery>,
  ) {
    return { items: await readCheckpoints(this.log.db, { after, limit }) };
  }

  @Get('checkpoints/latest')
  @ApiOperation({ summary: 'The newest signed checkpoint' })
  async latest() {
    const checkpoint = await latestCheckpoint(this.log.db);
    if (!checkpoint) throw apiError(404, 'no_checkpoint', 'No checkpoint has been signed yet.');
    return checkpoint;
  }

  @Get('proofs/inclusion')
  @ApiOperation({ summary: 'RFC 6962 inclusion proof of an entry in a checkpointed tree' })
  @ApiQuery({ name: 'sequence', required: true, description: 'the entry (leaf index + 1)' })
  @ApiQuery({
    name: 'treeSize',
    required: false,
    description: "a checkpoint's tree size (default: the latest)",
  })
  async inclusion(
    @Query(validate(inclusionQuery, INVALID_QUERY)) { sequence, treeSize }: z.infer<typeof inclusionQuery>,
  ) {
    const checkpoint = treeSize
      ? await checkpointAt(this.log.db, treeSize)
      : await latestCheckpoint(this.log.db);
    if (!checkpoint)
      throw apiError(
        404,
        'no_checkpoint',
        treeSize ? `No checkpoint covers exactly ${treeSize} entries.` : 'No checkpoint has been signed yet.',
      );
    if (sequence > checkpoint.treeSize)
      throw apiError(
        409,
        'not_checkpointed',
        `Entry ${sequence} is not in the checkpoint of ${checkpoint.treeSize} entries yet; ask again after the next checkpoint.`,
      );
    const proof = await buildInclusionProof(this.log.db, sequence, checkpoint.treeSize);
    if (!proof) throw apiError(404, 'no_such_entry', `The log has no entry ${sequence}.`);
    return { ...proof, rootHash: checkpoint.rootHash, checkpoint };
  }

  @Get('proofs/consistency')
  @ApiOperation({ summary: 'RFC 6962 consistency proof between two checkpoints' })
  @ApiQuery({ name: 'from', required: true, description: "the older checkpoint's tree size" })
  @ApiQuery({ name: 'to', required: true, description: "the newer checkpoint's tree size" })
  async consistency(
    @Query(validate(consistencyQuery, INVALID_QUERY)) { from, to }: z.infer<typeof consistencyQuery>,
  ) {
    if (from > to) throw apiError(400, 'invalid_query', 'from must not be larger than to.');
    const [older, newer] = await Promise.all([
      checkpointAt(this.log.db, from),
      checkpointAt(this.log.db, to),
    ]);
    if (!older || !newer)
      throw apiError(404, 'no_checkpoint', `Both from and to must be tree sizes of signed checkpoints.`);
    const proof = await buildConsistencyProof(this.log.db, from, to);
    return { from, to, proof, fromCheckpoint: older, toCheckpoint: newer };
  }
}
