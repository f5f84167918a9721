import type { ResolveRefusal, SecretsEvent } from '@palisade/contracts';

/** What the projection of the runtime-scheduler's events knows about one runtime. */
export interface RuntimeFacts {
  orgId: string;
  workspaceId: string;
  state: 'waking' | 'ended';
  trigger?: 'api' | 'devlink';
  /** The inputs the workspace's manifest declared when the runtime was asked to wake. */
  declared: readonly string[];
  devlinkWakeSecrets: boolean;
}

/** A secret that exists now: its current version. */
export interface SecretFacts {
  version: number;
}

export interface ResolutionRequest {
  orgId: string;
  workspaceId: string;
  runtimeId: string;
  inputs: readonly string[];
}

export type ResolutionDecision =
  | { outcome: 'resolve'; inputs: Array<{ name: string; version: number }> }
  | { outcome: 'refuse'; reason: ResolveRefusal; offending?: string[] };

const refuse = (reason: ResolveRefusal, offending?: string[]): ResolutionDecision => ({
  outcome: 'refuse',
  reason,
  ...(offending?.length ? { offending } : {}),
});

/**
 * May this runtime have these inputs now? Only while it wakes, only for the organization and
 * workspace it belongs to, only inputs its manifest declared at the wake, never for a reviewer's
 * dev-link wake unless the workspace allows it, and only inputs that have a value. Every other
 * answer is a refusal with a stable reason. Pure: the facts come from the service's projections.
 */
export function decideResolution(
  request: ResolutionRequest,
  runtime: RuntimeFacts | undefined,
  secrets: ReadonlyMap<string, SecretFacts>,
): ResolutionDecision {
  if (!runtime) return refuse('runtime_unknown');
  if (runtime.orgId !== request.orgId) return refuse('runtime_other_organization');
  if (runtime.workspaceId !== request.workspaceId) return refuse('runtime_other_workspace');
  if (runtime.state !== 'waking') return refuse('runtime_not_waking');
  const inputs = [...new Set(request.inputs)];
  if (runtime.trigger === 'devlink' && !runtime.devlinkWakeSecrets && inputs.length > 0)
    return refuse('devlink_wake_without_secrets');
  const declared = new Set(runtime.declared);
  const undeclared = inputs.filter((name) => !declared.has(name));
  if (undeclared.length) return refuse('undeclared_input', undeclared);
  const missing = inputs.filter((name) => !secrets.has(name));
  if (missing.length) return refuse('secret_missing', missing);
  return {
    outcome: 'resolve',
    inputs: inputs.map((name) => ({ name, version: secrets.get(name)!.version })),
  };
}

/** The event that records a decision (names, versions and reasons; never a value). */
export function resolutionEvent(
  request: ResolutionRequest,
  decision: ResolutionDecision,
  at: Date,
): SecretsEvent {
  const base = { orgId: request.orgId, workspaceId: request.workspaceId, runtimeId: request.runtimeId };
  if (decision.outcome === 'resolve')
    return {
      type: 'inputs.resolved',
      data: { ...base, inputs: decision.inputs, resolvedAt: at.toISOString() },
    };
  return {
    type: 'inputs.refused',
    data: {
      ...base,
      inputs: [...new Set(request.inputs)],
      reason: decision.reason,
      ...(decision.offending ? { offending: decision.offending } : {}),
      refusedAt: at.toISOString(),
    },
  };
}

/** The sentence a refusal is answered with (names, never values). */
export function refusalMessage(decision: Extract<ResolutionDecision, { outcome: 'refuse' }>): string {
  const names = decision.offending?.join(', ');
  switch (decision.reason) {
    case 'runtime_unknown':
      return 'secrets has not seen this runtime asked to wake';
    case 'runtime_not_waking':
      return 'the runtime is not waking: secrets are resolved only while a runtime wakes';
    case 'runtime_other_organization':
      return 'the runtime belongs to another organization';
    case 'runtime_other_workspace':
      return 'the runtime belongs to another workspace';
    case 'devlink_wake_without_secrets':
      return "a dev link woke this runtime and the workspace's manifest does not allow secrets then (devlinkWakeSecrets)";
    case 'undeclared_input':
      return `the workspace's manifest does not declare ${names}`;
    case 'secret_missing':
      return `no value is set for ${names} (never set, or deleted): set it with palisade secret set, or remove it from the manifest`;
    case 'backend_failed':
      return 'the secrets backend could not return the values; the wake can be tried again';
    default: {
      const never: never = decision.reason;
      return never;
    }
  }
}
