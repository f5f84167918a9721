export * from './authorization.constants';
export * from './authorization.events';
export * from './authorization.rpc';
