export * from './authz-client';
