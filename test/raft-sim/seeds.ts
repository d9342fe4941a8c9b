// Reading the simulation's environment variables, shared by the tap tests and sweep.ts:
//   SEED=n         run just seed n, with its full event trace
//   SEEDS=n        how many seeds to run (default given by the caller)
//   SEED_START=n   the first seed (default 1)
//   FAULTS=a,b     switch on deliberate core bugs (names from FaultInjection), to replay
//                  a seed the self-test reported
//   NODES=n        force the cluster size (the seed picks 3 or 5 otherwise)

import type { FaultInjection } from '../../src/raft/testing/index.js';

const FAULT_NAMES = [
  'minorityQuorum', 'skipLogUpToDateCheck', 'commitPreviousTermByCount', 'restoreOverMatchingLog', 'resendOnStaleAck',
  'unpacedProbes', 'concurrentConfChanges', 'learnersCountInQuorum', 'removedLeaderStepsDownAtOnce',
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];
/**
 * The planted bugs the simulation must catch. unpacedProbes only loops with a follower
 * that lost its log, which a correct run never has; src/raft/snapshot.test.ts catches it.
 */
export const ALL_FAULTS: readonly FaultName[] = FAULT_NAMES.filter((f) => f !== 'unpacedProbes');

export interface SeedSelection {
  /** Set when SEED picks a single seed (verbose mode). */
  readonly single?: number;
  readonly start: number;
  readonly count: number;
  readonly faults: FaultInjection;
  readonly nodes?: number;
}

function intVar(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

export function parseFaults(raw: string | undefined): FaultInjection {
  const out: Partial<Record<FaultName, boolean>> = {};
  for (const name of (raw ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    if (!(FAULT_NAMES as readonly string[]).includes(name)) {
      throw new RangeError(`FAULTS: unknown fault ${JSON.stringify(name)}; known: ${FAULT_NAMES.join(', ')}`);
    }
    out[name as FaultName] = true;
  }
  return out;
}

export function selectSeeds(env: NodeJS.ProcessEnv, defaultCount: number): SeedSelection {
  const faults = parseFaults(env.FAULTS);
  const nodes = intVar(env, 'NODES', 1);
  const common = { faults, ...(nodes !== undefined ? { nodes } : {}) };
  const single = intVar(env, 'SEED', 0);
  if (single !== undefined) return { single, start: single, count: 1, ...common };
  return { start: intVar(env, 'SEED_START', 0) ?? 1, count: intVar(env, 'SEEDS', 1) ?? defaultCount, ...common };
}
