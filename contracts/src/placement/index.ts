export * from './placement.constants';
export * from './placement.events';
export * from './placement.rpc';
