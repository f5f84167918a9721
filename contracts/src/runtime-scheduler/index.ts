export * from './runtime-scheduler.constants';
export * from './runtime-scheduler.events';
