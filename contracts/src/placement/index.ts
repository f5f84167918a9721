export * from './placement.constants';
export * from './placement.hosts';
export * from './placement.events';
export * from './placement.rpc';
