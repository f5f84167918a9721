export * from './database';
export * from './tables';
export * from './errors';
export * from './migrations';
export * from './event-store';
export * from './decider';
export * from './outbox.repository';
export * from './inbox.repository';
