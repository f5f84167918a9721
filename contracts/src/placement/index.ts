export * from './placement.constants';
export * from './placement.events';
