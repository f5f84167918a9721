export * from './audit.constants';
export * from './audit.events';
