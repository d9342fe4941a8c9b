// The region errors are part of the wire vocabulary (src/api/errors.ts); the raftstore
// throws them, and re-exports them for its own modules.

export * from '../api/errors.js';
