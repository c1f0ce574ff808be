export * from './providers.js';
export * from './session.js';
