// KvClient: the leader-redirecting client used by the CLI, benchmarks and tests. It
// caches the leader, follows NotLeader hints, tries other stores on connection errors
// and timeouts, and retries StaleCommand with backoff until its deadline.
//
// Writes carry (client id, sequence) so the state machine drops a retry of a write that
// already took effect (Raft thesis §6.3). A client has at most one write in flight, so
// sequences apply in order. A write whose attempts may have reached a leader is never
// reported as failed: at the deadline it is UnknownOutcomeError.

import { RegionCache } from './region-cache.js';
import type { ErrorCode } from '../api/codes.js';
import type { ClientSession, RequestHeader } from '../api/request.js';
import { InvalidRequestError, NotLeaderError, RegionError, RegionNotFoundError, SessionExpiredError } from '../api/errors.js';
import type { CallOptions, StoreConnection } from './connection.js';
import { ClusterUnavailableError, ConnectionRefusedError, InvalidArgumentError, UnknownOutcomeError } from './errors.js';

/** Options of a KvClient: the stores, how to reach each, deadlines and retry behaviour. */
export interface KvClientOptions {
  readonly storeIds: readonly number[];
  readonly connect: (storeId: number) => StoreConnection;
  /** Unique per client instance; 0 is reserved for "no session". */
  readonly clientId: number;
  /** Overall budget of one operation. */
  readonly timeoutMs?: number;
  /** Budget of one attempt against one store. */
  readonly attemptTimeoutMs?: number;
  /** Random source for backoff jitter. */
  readonly random?: () => number;
  /** Wall clock (ms) stamped on each write's first attempt (tests pass a fake one). */
  readonly now?: () => number;
  /**
   * Whether a store the client was not given can be reached (a store added since, named
   * by a leader hint): the client then adds it to the stores it tries.
   */
  readonly canReach?: (storeId: number) => boolean;
  /** Called with the store that answered each successful operation (benchmarks, diagnostics). */
  readonly onAnswer?: (storeId: number) => void;
  /**
   * Give up at once when every store refused the connection in one round (nothing was
   * sent anywhere: the cluster is down), instead of retrying until the timeout. For the
   * CLI; a long-lived client waiting out a restart leaves it off.
   */
  readonly failFastWhenDown?: boolean;
  /**
   * The store to try first, where the leader was last seen (the CLI remembers it between
   * calls): a right guess saves a round trip to a follower. Ignored unless in storeIds.
   */
  readonly firstStore?: number;
}

/**
 * Region errors that another store may not give: try the next one. STORE_STOPPED arrives
 * as itself over gRPC (src/api/wire-errors.ts), no longer disguised as SERVER_IS_BUSY: a
 * stopping store serves nothing more, so another store is the place to ask.
 */
const RETRY_ELSEWHERE = new Set<ErrorCode>(['STALE_COMMAND', 'STORE_STOPPED', 'SERVER_IS_BUSY', 'REGION_NOT_FOUND']);

interface Attempt<T> {
  readonly name: string;
  readonly isWrite: boolean;
  /** The key whose region the request goes to (a range's start). */
  readonly key: Uint8Array;
  run(conn: StoreConnection, h: RequestHeader, o: CallOptions): Promise<T>;
}

/**
 * A client of the whole cluster: finds and follows the leader, retries elsewhere until its
 * deadline, and reports a write that may have applied as UnknownOutcomeError, never as
 * failed.
 */
export class KvClient {
  private leader: number | undefined;
  /** Which region each request goes to (region-cache.ts). */
  private readonly regions = new RegionCache();
  private sequence = 0;
  private writeChain: Promise<unknown> = Promise.resolve();
  private readonly timeoutMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly random: () => number;
  private readonly now: () => number;
  /** The stores tried in turn: those given, and any learned from a leader hint since. */
  private readonly storeIds: number[];

  constructor(private readonly o: KvClientOptions) {
    if (o.clientId <= 0 || !Number.isSafeInteger(o.clientId)) throw new RangeError('clientId must be a positive integer');
    if (o.storeIds.length === 0) throw new RangeError('no stores to connect to');
    this.storeIds = [...o.storeIds];
    // Stryker disable next-line ConditionalExpression: storeIds holds numbers only, so includes(undefined) is false anyway
    if (o.firstStore !== undefined && this.storeIds.includes(o.firstStore)) this.leader = o.firstStore;
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.attemptTimeoutMs = o.attemptTimeoutMs ?? 1_000;
    this.random = o.random ?? Math.random;
    this.now = o.now ?? Date.now;
  }

  /** The store that answered last, which is the leader as far as this client knows. */
  get knownLeader(): number | undefined {
    return this.leader;
  }

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.execute({ name: 'get', isWrite: false, key, run: (c, h, o) => c.get(h, key, o) });
  }

  scan(start: Uint8Array, end: Uint8Array, limit: number): Promise<ReadonlyArray<readonly [Uint8Array, Uint8Array]>> {
    return this.execute({ name: 'scan', isWrite: false, key: start, run: (c, h, o) => c.scan(h, start, end, limit, o) });
  }

  put(key: Uint8Array, value: Uint8Array): Promise<void> {
    return this.serialWrite((s) => ({ name: 'put', isWrite: true, key, run: (c, h, o) => c.put(h, key, value, s, o) }));
  }

  delete(key: Uint8Array): Promise<void> {
    return this.serialWrite((s) => ({ name: 'delete', isWrite: true, key, run: (c, h, o) => c.delete(h, key, s, o) }));
  }

  /**
   * Deletes every key in [start, end) (end empty: to the last key) atomically; resolves with
   * how many keys it removed, or undefined when a retry found it already applied.
   */
  deleteRange(start: Uint8Array, end: Uint8Array): Promise<number | undefined> {
    return this.serialWrite((s) => ({ name: 'delete', isWrite: true, key: start, run: (c, h, o) => c.deleteRange(h, start, end, s, o) }));
  }

  /** Queues a write behind the previous one so sequences apply in order. */
  private serialWrite<T>(make: (s: ClientSession) => Attempt<T>): Promise<T> {
    const run = async () => {
      const session = { clientId: this.o.clientId, sequence: ++this.sequence, sentAtMs: this.now() };
      return this.execute(make(session));
    };
    const p = this.writeChain.then(run, run);
    this.writeChain = p.catch(() => undefined);
    return p;
  }

  private async execute<T>(attempt: Attempt<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    const tried = new Set<number>();
    let mayHaveApplied = false;
    let lastError = 'no attempt made';
    let next = this.leader ?? this.storeIds[0]!;
    /** Stores that refused the connection since the last other answer. */
    const refused = new Map<number, string>();
    for (let round = 0; Date.now() < deadline; round++) {
      const storeId = next;
      tried.add(storeId);
      try {
        // The attempt's budget goes to the store too: the call is cancelled when it runs out.
        const ms = this.attemptMs(deadline);
        const result = await this.withTimeout(attempt.run(this.o.connect(storeId), { regionId: this.regions.regionFor(attempt.key) }, { timeoutMs: ms }), ms);
        this.leader = storeId;
        this.o.onAnswer?.(storeId);
        return result;
      } catch (e) {
        const err = e as Error;
        lastError = err.message.startsWith(`store ${storeId} `) ? err.message : `store ${storeId}: ${err.message}`;
        if (err instanceof InvalidRequestError || err instanceof InvalidArgumentError) throw new InvalidArgumentError(err.message);
        if (err instanceof SessionExpiredError) {
          // Refused, not applied; but an earlier attempt may have been, under the session
          // the store has since forgotten. Never retried: that could apply it twice.
          if (mayHaveApplied) throw new UnknownOutcomeError(attempt.name, [...tried], `${lastError}`);
          throw err;
        }
        if (err instanceof ConnectionRefusedError) {
          refused.set(storeId, err.addr);
          if (this.o.failFastWhenDown && this.storeIds.every((id) => refused.has(id))) {
            const addrs = [...refused.values()].join(', ');
            // An earlier attempt may have reached a leader before the stores went down.
            if (attempt.isWrite && mayHaveApplied) throw new UnknownOutcomeError(attempt.name, [...tried], `${lastError}; now every store refuses the connection (${addrs})`);
            throw new ClusterUnavailableError(attempt.name, [...tried], lastError,
              `${attempt.name}: no store is running: every store refused the connection (${addrs})` +
              `${attempt.isWrite ? '; nothing was written' : ''}. Start the cluster with tinykv cluster up`);
          }
          this.leader = undefined;
          next = this.nextStore(storeId);
          if (refused.size < this.storeIds.length) continue; // try the others at once
          await this.backoff(round, deadline);
          continue;
        }
        refused.clear();
        const hint = err instanceof NotLeaderError ? err.leader?.storeId : undefined;
        // A NotLeader or RegionNotFound answer means nothing was proposed; anything else after the request
        // left us (stale command, timeout, lost connection) may have been applied.
        if (!(err instanceof NotLeaderError) && !(err instanceof RegionNotFoundError) && attempt.isWrite) mayHaveApplied = true;
        // REGION_NOT_FOUND: a store with no peer (waiting to be added, or just removed).
        if (err instanceof RegionError && !(err instanceof NotLeaderError) && !RETRY_ELSEWHERE.has(err.code)) {
          throw err; // region errors a single-region client cannot fix
        }
        this.leader = undefined;
        if (hint !== undefined && !this.storeIds.includes(hint) && this.o.canReach?.(hint)) this.storeIds.push(hint);
        // Stryker disable next-line ConditionalExpression: storeIds holds numbers only, so includes(undefined) is false anyway (the whole condition forced false or true is caught by the hint tests; this mark hides them)
        if (hint !== undefined && hint !== storeId && this.storeIds.includes(hint)) {
          next = hint;
          continue; // a fresh hint: follow it at once
        }
        next = this.nextStore(storeId);
        await this.backoff(round, deadline);
      }
    }
    const ids = [...tried];
    if (attempt.isWrite && mayHaveApplied) throw new UnknownOutcomeError(attempt.name, ids, lastError);
    throw new ClusterUnavailableError(attempt.name, ids, lastError);
  }

  private nextStore(after: number): number {
    const ids = this.storeIds;
    return ids[(ids.indexOf(after) + 1) % ids.length]!;
  }

  private async backoff(round: number, deadline: number): Promise<void> {
    const base = Math.min(10 * 2 ** Math.min(round, 5), 200);
    const ms = Math.min(base / 2 + this.random() * base / 2, Math.max(0, deadline - Date.now()));
    await new Promise((r) => setTimeout(r, ms));
  }

  /** One attempt's budget: attemptTimeoutMs, or what is left before the deadline. */
  private attemptMs(deadline: number): number {
    return Math.max(1, Math.min(this.attemptTimeoutMs, deadline - Date.now()));
  }

  /** Bounds an attempt whatever its connection does with the timeout it was given. */
  private withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
    });
  }
}
