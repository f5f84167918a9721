import { z } from 'zod';
import { isLoopbackUrl, PalisadeMode, PALISADE_MODES } from './config-fields';
import { secretWeaknesses } from './secret-strength';
import { sensitiveOptions } from './sensitive';

/** How the rules know a service's own override keys (`<PREFIX>_NATS_USER`, ...). */
export interface ConfigRulesOptions {
  /** Upper snake case of the service, e.g. RUNTIME_SCHEDULER; absent for the base configuration. */
  servicePrefix?: string;
}

interface RuleContext {
  value: Record<string, unknown>;
  issues: readonly { path?: readonly PropertyKey[] }[];
  addIssue(issue: { code: 'custom'; message: string; path: PropertyKey[]; params?: { fix: string } }): void;
}

const STRONG_SECRET_FIX =
  'use a random value of at least 32 characters, e.g. the output of `openssl rand -hex 32`';

/**
 * Cross-field and mode rules, run after the fields even when some of them failed, so that one
 * start reports everything. A rule only looks at fields that parsed; each finding names the
 * setting and how to fix it, and never quotes a value.
 */
export function applyConfigRules(
  shape: Readonly<Record<string, z.core.$ZodType>>,
  options: ConfigRulesOptions,
  ctx: RuleContext,
): void {
  if (ctx.value === null || typeof ctx.value !== 'object') return; // the object check has reported it
  const failed = new Set(ctx.issues.map((issue) => String(issue.path?.[0] ?? '')));
  const valid = (key: string): unknown => (failed.has(key) ? undefined : ctx.value[key]);
  const isSet = (key: string) => valid(key) !== undefined;
  const report = (key: string, message: string, fix: string) =>
    ctx.addIssue({ code: 'custom', message, path: [key], params: { fix } });

  const rawMode = valid('PALISADE_MODE');
  const mode = (PALISADE_MODES as readonly unknown[]).includes(rawMode)
    ? (rawMode as PalisadeMode)
    : undefined;
  const prefix = options.servicePrefix;

  // NATS user and password come in pairs, both for the shared and the per-service credentials.
  const pairs: [string, string][] = [['NATS_USER', 'NATS_PASSWORD']];
  if (prefix) pairs.push([`${prefix}_NATS_USER`, `${prefix}_NATS_PASSWORD`]);
  // So do a client certificate and its key.
  const tlsPairs: [string, string][] = [['NATS_TLS_CERT_FILE', 'NATS_TLS_KEY_FILE']];
  if (prefix) tlsPairs.push([`${prefix}_NATS_TLS_CERT_FILE`, `${prefix}_NATS_TLS_KEY_FILE`]);
  for (const [user, password] of [...pairs, ...tlsPairs]) {
    if (failed.has(user) || failed.has(password)) continue;
    if (isSet(user) && !isSet(password))
      report(password, `is required when ${user} is set`, `set ${password}, or unset ${user}`);
    if (isSet(password) && !isSet(user))
      report(user, `is required when ${password} is set`, `set ${user}, or unset ${password}`);
  }

  // A service may use its own database URL instead of the shared one; one of them is needed.
  if (
    prefix &&
    !isSet('DATABASE_URL') &&
    !isSet(`${prefix}_DATABASE_URL`) &&
    !failed.has('DATABASE_URL') &&
    !failed.has(`${prefix}_DATABASE_URL`)
  ) {
    report(
      'DATABASE_URL',
      'is required',
      `set DATABASE_URL (or ${prefix}_DATABASE_URL for this service only) to a postgres:// URL`,
    );
  }

  if (isSet('PALISADE_DEMO_TOKENS') && mode === 'dev') {
    report(
      'PALISADE_DEMO_TOKENS',
      'static demo tokens are accepted only in demo mode',
      'set PALISADE_MODE=demo, or unset PALISADE_DEMO_TOKENS',
    );
  }
  if (mode !== 'production') return;

  if (isSet('PALISADE_DEMO_TOKENS')) {
    report(
      'PALISADE_DEMO_TOKENS',
      'static demo tokens are refused in production mode',
      'unset PALISADE_DEMO_TOKENS; in production people sign in through PALISADE_OIDC_ISSUER and tools use API tokens',
    );
  }

  if (!failed.has('PALISADE_OIDC_ISSUER')) {
    const issuer = valid('PALISADE_OIDC_ISSUER');
    if (issuer === undefined) {
      report(
        'PALISADE_OIDC_ISSUER',
        'is required in production mode',
        "set PALISADE_OIDC_ISSUER to your OIDC provider's https:// issuer URL",
      );
    } else if (typeof issuer === 'string' && !issuer.startsWith('https://')) {
      const local = isLoopbackUrl(new URL(issuer))
        ? ' (a local http:// issuer is for dev and demo only)'
        : '';
      report(
        'PALISADE_OIDC_ISSUER',
        `must be an https:// URL in production mode${local}`,
        "use your OIDC provider's https:// issuer URL",
      );
    }
  }

  // A client certificate (mutual TLS, the user mapped from it) is a credential too.
  const credentialKeys = [...pairs, ...tlsPairs].flat();
  if (!credentialKeys.some((key) => isSet(key) || failed.has(key))) {
    const perService = prefix
      ? ` (or ${prefix}_NATS_USER and ${prefix}_NATS_PASSWORD for this service only)`
      : '';
    report(
      'NATS_USER',
      'NATS credentials are required in production mode',
      `set NATS_USER and NATS_PASSWORD${perService}, or a client certificate (NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE)`,
    );
  }

  for (const [key, field] of Object.entries(shape)) {
    const sensitive = sensitiveOptions(field);
    const value = valid(key);
    if (!sensitive || sensitive.checkStrength === false || value === undefined) continue;
    const secret = sensitive.secretPart
      ? sensitive.secretPart(value)
      : typeof value === 'string'
        ? value
        : undefined;
    const name = sensitive.describe?.(key) ?? key;
    if (secret === undefined) {
      if (sensitive.requireSecret)
        report(key, `${name} is missing; production mode needs one`, STRONG_SECRET_FIX);
      continue;
    }
    const reasons = secretWeaknesses(secret);
    if (reasons.length > 0)
      report(key, `${name} is too weak for production: ${reasons.join(', ')}`, STRONG_SECRET_FIX);
  }
}
