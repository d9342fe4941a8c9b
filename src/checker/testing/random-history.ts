// Random *valid* histories for testing the checker: clients issue operations against a
// simulated atomic store, each taking effect at one instant strictly inside its interval,
// and the results are replayed through a HistoryRecorder on a manual clock. A seeded PRNG
// makes every history reproducible from its seed.

import type { Op, OpCall } from '../history.js';
import { HistoryRecorder } from '../history.js';

/** A small seeded PRNG (a Weyl sequence through a 32-bit avalanche mix); returns [0, 1). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  };
}

export interface RandomHistoryOptions {
  readonly seed: number;
  readonly clients: number;
  readonly opsPerClient: number;
  readonly keys: readonly string[];
  /** Chance that a client gives up on an operation (half of those still take effect). */
  readonly unknownRate?: number;
  /** Draw values from this many choices per key (repeats make the search harder); else unique. */
  readonly valueChoices?: number;
  /** Relative weights of the operation kinds. */
  readonly mix?: Partial<Record<OpCall['kind'], number>>;
  /** Longest time an operation takes from invocation to effect, and from effect to return. */
  readonly maxLatency?: number;
}

interface Planned {
  readonly clientId: number;
  readonly call: OpCall;
  readonly invokeAt: number;
  /** When it takes effect: after invokeAt, and before returnAt unless the outcome is unknown. */
  readonly point: number;
  /** For an unknown operation, when the client gave up (not recorded). */
  readonly returnAt: number;
  readonly unknown: boolean;
  /** False only for an unknown operation that never took effect. */
  readonly applies: boolean;
  result?: string | null | Array<[string, string]>;
}

const DEFAULT_MIX = { put: 4, get: 4, delete: 1 };

/** Generates a valid history; see the module comment. */
export function randomHistory(opts: RandomHistoryOptions): Op[] {
  const rand = seededRandom(opts.seed);
  const plans: Planned[] = [];
  for (let c = 1; c <= opts.clients; c++) {
    let t = Math.floor(rand() * 5);
    for (let i = 0; i < opts.opsPerClient; i++) {
      const p = planOp(rand, opts, c, i, t);
      plans.push(p);
      t = p.returnAt + Math.floor(rand() * 3);
    }
  }
  simulate(plans);
  return replay(plans);
}

function planOp(rand: () => number, opts: RandomHistoryOptions, clientId: number, n: number, t: number): Planned {
  const lat = opts.maxLatency ?? 10;
  const key = opts.keys[Math.floor(rand() * opts.keys.length)]!;
  // Bracketed so that no value is a substring of another when appended.
  const value = opts.valueChoices === undefined ? `[c${clientId}.${n}]` : `v${Math.floor(rand() * opts.valueChoices)}`;
  const call = pickCall(rand, opts, key, value);
  const unknown = rand() < (opts.unknownRate ?? 0);
  // An operation the client gave up on may still take effect well after it moved on.
  const point = t + 1 + Math.floor(rand() * lat * (unknown ? 4 : 1));
  const returnAt = unknown ? t + 2 * lat : point + 1 + Math.floor(rand() * lat);
  return { clientId, call, invokeAt: t, point, returnAt, unknown, applies: !unknown || rand() < 0.5 };
}

function pickCall(rand: () => number, opts: RandomHistoryOptions, key: string, value: string): OpCall {
  const mix = Object.entries(opts.mix ?? DEFAULT_MIX) as Array<[OpCall['kind'], number]>;
  let r = rand() * mix.reduce((s, [, w]) => s + w, 0);
  let kind = mix[0]![0];
  for (const [k, w] of mix) {
    kind = k;
    if ((r -= w) < 0) break;
  }
  switch (kind) {
    case 'put':
    case 'append':
      return { kind, key, value };
    case 'get':
    case 'delete':
      return { kind, key };
    case 'scan': {
      const [a, b] = [key, opts.keys[Math.floor(rand() * opts.keys.length)]!].sort();
      return { kind, start: a!, end: b === a ? undefined : b };
    }
  }
}

/** Applies the planned operations to an atomic map in effect order, recording read results. */
function simulate(plans: Planned[]): void {
  const store = new Map<string, string>();
  for (const p of [...plans].sort((a, b) => a.point - b.point)) {
    if (!p.applies) continue;
    const c = p.call;
    if (c.kind === 'put') store.set(c.key, c.value);
    else if (c.kind === 'append') store.set(c.key, (store.get(c.key) ?? '') + c.value);
    else if (c.kind === 'delete') store.delete(c.key);
    else if (c.kind === 'get') p.result = store.get(c.key) ?? null;
    else if (c.kind === 'scan') {
      const { start, end } = c;
      const inRange = (k: string): boolean => k >= start && (end === undefined || k < end);
      p.result = [...store].filter(([k]) => inRange(k)).sort(([a], [b]) => (a < b ? -1 : 1));
    }
  }
}

/** Feeds invoke and return events to a recorder in time order, on a manual clock. */
function replay(plans: readonly Planned[]): Op[] {
  let clock = 0;
  const recorder = new HistoryRecorder({ now: () => clock });
  type Ev = { at: number; invoke: boolean; plan: Planned };
  const events: Ev[] = [];
  for (const plan of plans) {
    events.push({ at: plan.invokeAt, invoke: true, plan });
    if (!plan.unknown) events.push({ at: plan.returnAt, invoke: false, plan });
  }
  events.sort((a, b) => a.at - b.at || Number(a.invoke) - Number(b.invoke));
  const ids = new Map<Planned, number>();
  for (const ev of events) {
    clock = ev.at;
    const p = ev.plan;
    if (ev.invoke) ids.set(p, recorder.invoke(p.clientId, p.call));
    else if (p.call.kind === 'get') recorder.okGet(ids.get(p)!, p.result as string | null);
    else if (p.call.kind === 'scan') recorder.okScan(ids.get(p)!, p.result as Array<[string, string]>);
    else recorder.ok(ids.get(p)!);
  }
  for (const p of plans) if (p.unknown) recorder.unknown(ids.get(p)!);
  return recorder.history();
}
