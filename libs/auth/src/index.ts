export * from './auth-error';
export * from './principal';
export * from './jwks-key-store';
export * from './revocation-list';
export * from './revocation-feed';
export * from './access-token.verifier';
export * from './access-token.guard';
export * from './api-token.resolver';
