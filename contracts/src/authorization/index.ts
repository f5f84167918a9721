export * from './authorization.constants';
export * from './authorization.events';
