import { LOGIN_FAILURE_REASONS } from '@palisade/contracts';
import { counter } from '@palisade/observability';

const METHODS = ['oidc', 'bootstrap'] as const;

/** Failed sign-ins by method and reason; every pair starts at 0 so rates exist before the first failure. */
export function loginFailures() {
  const failures = counter(
    'palisade_login_failures_total',
    'Failed sign-ins (each one is a login.failed event)',
    ['method', 'reason'],
  );
  for (const method of METHODS)
    for (const reason of LOGIN_FAILURE_REASONS) failures.inc({ method, reason }, 0);
  return failures;
}
