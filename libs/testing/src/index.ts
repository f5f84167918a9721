export * from './wait-for';
export * from './test-state';
export * from './test-env';
export * from './child-process';
export * from './oidc-provider';
