// The Raft core's testing entry: what tests (and the in-process harness) may use that the
// public surface (../index.ts) deliberately leaves out. Above all the deliberate bugs:
// switches that break a safety rule on purpose, so that a test can show its checks catch
// the break. Production code never imports this file (scripts/check-layers.mjs).

export type { FaultInjection } from '../config.js';
