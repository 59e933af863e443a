export * from './types.js';
export { decide, initialState } from './engine.js';
export { computeRetryDelayMs } from './backoff.js';
export { DEFAULT_POLICIES } from './policy.js';
export { classifyReceipt, meetsCondition, type ReceiptEffect } from './attempts.js';
