// The linearizability checker's public surface: record a history with HistoryRecorder
// (history.ts), judge it with checkHistory (linearizability.ts).

export type { KvOp, Op, OpCall, Outcome, RecorderOptions, ScanOp, ScanOutcome } from './history.js';
export { HistoryRecorder, describeOp } from './history.js';
export type { CheckOptions, CheckResult, Inconclusive, Violation } from './linearizability.js';
export { DEFAULT_MAX_STEPS, checkHistory } from './linearizability.js';
