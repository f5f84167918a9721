export * from './devlink.constants';
export * from './devlink.events';
