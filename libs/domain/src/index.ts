export * from './rule-error';
export * from './clock';
export * from './decider';
