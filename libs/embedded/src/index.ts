export * from './free-port';
export * from './process';
export * from './nats-server';
export * from './postgres';
export * from './clickhouse-server';
export * from './tls-certificates';
export * from './docker-engine';
