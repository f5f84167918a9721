import type { Allowlists, EffectivePolicyPack, PolicyPackName } from '@palisade/contracts';
import { OrgState } from './org.state';

/**
 * The built-in policy packs. allow_all restricts nothing; hipaa and gdpr allow Palisade's
 * hardened images only, no network but an explicitly allowed one, and tools that cannot move
 * data off the workspace (no curl, wget, scp, ssh, rsync, ftp clients).
 */
export const POLICY_PACK_ALLOWLISTS: Readonly<Record<PolicyPackName, Allowlists>> = Object.freeze({
  allow_all: { images: ['*'], networks: ['*'], tools: ['*'] },
  hipaa: {
    images: ['palisade/base:*', 'palisade/node:*', 'palisade/python:*'],
    networks: ['none'],
    tools: ['git', 'node', 'npm', 'python3', 'pip', 'make', 'bash'],
  },
  gdpr: {
    images: ['palisade/*'],
    networks: ['none', 'eu-egress'],
    tools: ['git', 'node', 'npm', 'npx', 'python3', 'pip', 'make', 'bash', 'psql'],
  },
});

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

/** The pack's allowlists extended by what an admin added (an event, never configuration alone). */
export function effectivePolicyPack(org: OrgState): EffectivePolicyPack {
  const base = POLICY_PACK_ALLOWLISTS[org.pack];
  return {
    orgId: org.orgId,
    pack: org.pack,
    allowlists: {
      images: union(base.images, org.extensions.images),
      networks: union(base.networks, org.extensions.networks),
      tools: union(base.tools, org.extensions.tools),
    },
  };
}

/** Does an allowlist allow this name? Entries match exactly, or by prefix when they end in `*`. */
export function allowlisted(list: readonly string[], name: string): boolean {
  return list.some((entry) => (entry.endsWith('*') ? name.startsWith(entry.slice(0, -1)) : entry === name));
}
