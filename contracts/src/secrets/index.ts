export * from './secrets.constants';
export * from './secrets.events';
export * from './secrets.http';
export * from './secrets.rpc';
