export * from './identity.constants';
export * from './identity.events';
