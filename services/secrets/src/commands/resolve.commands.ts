import { Inject, Injectable } from '@nestjs/common';
import { importBoxPublicKey, sealBox } from '@palisade/crypto';
import type { ResolveReply, ResolveRequest } from '@palisade/contracts';
import { RuleError } from '@palisade/domain';
import { SERVICE_CONFIG, ServiceRuntime } from '@palisade/runtime';
import type { SecretBackend } from '../backends/secret-backend';
import { SecretBackendError } from '../backends/secret-backend';
import { SECRET_BACKEND } from '../backends/secret-backend.token';
import { decideResolution, refusalMessage, ResolutionDecision, resolutionEvent } from '../domain/resolution';
import { RuntimeViewPosition } from '../projections/runtime-view.position';
import { runtimeFacts, secretRows } from '../projections/secrets.repository';
import type { SecretsConfig } from '../secrets.config';

/**
 * Resolves a waking runtime's declared inputs: waits for the view to reach the wake (`atLeast`),
 * decides from the projections, reads exactly the recorded versions from the backend, seals the
 * values to the runtime's key (its id as associated data), records `inputs.resolved` (names and
 * versions) and only then answers. A refusal is recorded as `inputs.refused` and thrown as a
 * RuleError whose code is its reason. Values exist in clear only in this process's memory,
 * between the backend and the box.
 */
@Injectable()
export class ResolveCommands {
  constructor(
    private readonly runtime: ServiceRuntime,
    private readonly position: RuntimeViewPosition,
    @Inject(SECRET_BACKEND) private readonly backend: SecretBackend,
    @Inject(SERVICE_CONFIG) private readonly config: SecretsConfig,
  ) {}

  async resolve(request: ResolveRequest, now: number): Promise<ResolveReply> {
    try {
      importBoxPublicKey(request.publicKey);
    } catch {
      throw new RuleError(
        400,
        'invalid_resolve',
        'publicKey must be 32 bytes of an X25519 public key, base64url',
      );
    }
    if (
      request.atLeast !== undefined &&
      !(await this.position.reach(request.atLeast, this.config.SECRETS_RESOLVE_WAIT_MS))
    )
      throw new RuleError(
        503,
        'view_behind',
        `secrets has not seen event ${request.atLeast} of the runtime-scheduler yet; ask again`,
      );

    const db = this.runtime.db;
    const [runtime, rows] = await Promise.all([
      runtimeFacts(db, request.runtimeId),
      secretRows(db, request.orgId, request.workspaceId, request.inputs),
    ]);
    const byName = new Map(rows.map((row) => [row.name, row]));
    let decision: ResolutionDecision = decideResolution(request, runtime, byName);
    let detail: string | undefined;
    let reply: ResolveReply | undefined;
    if (decision.outcome === 'resolve') {
      try {
        const values = await this.backend.getMany(
          db,
          request.orgId,
          request.workspaceId,
          decision.inputs.map(({ name }) => ({ name, ref: byName.get(name)!.ref })),
        );
        // In the order of the request, as `versions` lists them.
        const ordered = Object.fromEntries(decision.inputs.map(({ name }) => [name, values.get(name)]));
        const plaintext = Buffer.from(JSON.stringify(ordered), 'utf8');
        reply = {
          sealed: sealBox(plaintext, request.publicKey, request.runtimeId),
          versions: decision.inputs,
        };
        plaintext.fill(0);
      } catch (error) {
        if (!(error instanceof SecretBackendError)) throw error;
        decision = { outcome: 'refuse', reason: 'backend_failed' };
        detail = error.message;
      }
    }
    // One event per resolve on the runtime's stream, decided above from the projections: nothing
    // is read back from the stream (append-only, any version).
    await this.runtime.store.append(db, {
      streamId: `runtime/${request.runtimeId}`,
      expectedVersion: 'any',
      events: [resolutionEvent(request, decision, new Date(now))],
      metadata: { orgId: request.orgId, actor: 'service:secrets' },
    });
    if (decision.outcome === 'refuse') {
      const message = refusalMessage(decision);
      throw new RuleError(403, decision.reason, detail ? `${message}: ${detail}` : message);
    }
    return reply!;
  }
}
