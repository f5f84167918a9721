import { auditService } from '@palisade/audit';
import { authorizationService } from '@palisade/authorization';
import { devlinkService } from '@palisade/devlink';
import { identityService } from '@palisade/identity';
import { placementService } from '@palisade/placement';
import { runtimeSchedulerService } from '@palisade/runtime-scheduler';
import { ServiceDefinition } from '@palisade/runtime';
import { secretsService } from '@palisade/secrets';

/** Every service `palisade` can run, in start order (identity first: others verify its tokens). */
export const ALL_TARGETS: readonly ServiceDefinition[] = [
  identityService,
  authorizationService,
  placementService,
  secretsService,
  devlinkService,
  runtimeSchedulerService,
  auditService,
];

export class UsageError extends Error {
  readonly exitCode = 2;
}

/** `identity,audit` → their definitions; an unknown or repeated name is a usage error. */
export function selectTargets(list: string): ServiceDefinition[] {
  const names = list
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (names.length === 0) throw new UsageError(`--target needs at least one of: ${targetNames().join(', ')}`);
  const unknown = names.filter((n) => !ALL_TARGETS.some((t) => t.context.context === n));
  if (unknown.length)
    throw new UsageError(
      `unknown target${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}; valid targets: ${targetNames().join(', ')}`,
    );
  const repeated = names.filter((n, i) => names.indexOf(n) !== i);
  if (repeated.length) throw new UsageError(`target "${repeated[0]}" is listed twice`);
  return ALL_TARGETS.filter((t) => names.includes(t.context.context));
}

export function targetNames(): string[] {
  return ALL_TARGETS.map((t) => t.context.context);
}
