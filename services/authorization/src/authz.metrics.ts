import { counter, histogram } from '@palisade/observability';

/** Decisions answered (HTTP and NATS alike), by outcome and stable reason. */
export function authzDecisions() {
  return counter('palisade_authz_decisions_total', 'Authorization decisions, by outcome and reason', [
    'decision',
    'reason',
  ]);
}

/** Time to answer one `rpc.authorization.check` request, waiting for the view included. */
export function authzRpcDuration() {
  return histogram(
    'palisade_authz_rpc_duration_seconds',
    'Time authorization takes to answer a check request over NATS',
    [],
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  );
}
