export * from './wait-for';
export * from './test-state';
export * from './test-env';
export * from './child-process';
export * from './bench';
export * from './clickhouse';
export * from './oidc-provider';
export * from './go-tools';
