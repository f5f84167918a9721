export * from './canonical-json';
export * from './hash-chain';
export * from './merkle';
export * from './checkpoint';
export * from './audit-entry';
export * from './range-check';
export * from './verify-log';
export * from './export-format';
