export * from './secrets.constants';
export * from './secrets.events';
