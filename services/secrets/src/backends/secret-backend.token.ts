/** Injection token of the configured SecretBackend. */
export const SECRET_BACKEND = Symbol.for('palisade.secrets.backend');
