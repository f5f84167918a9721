export * from './runtime-scheduler.constants';
export * from './runtime-scheduler.events';
export * from './runtime-scheduler.rpc';
