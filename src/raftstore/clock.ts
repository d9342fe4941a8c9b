// The store's source of ticks. A real store uses an interval timer; tests use a
// ManualClock they advance explicitly, so no test ever sleeps for Raft time to pass.

/** The store's source of ticks and monotonic time. */
export interface Clock {
  /** Calls `onTick` every tick until the returned function is called. */
  every(tickMs: number, onTick: () => void): () => void;
  /** Milliseconds on a monotonic scale, for uptime and timeouts. */
  now(): number;
}

/** A Clock on setInterval and performance.now, for a real store. */
export const realClock: Clock = {
  every(tickMs, onTick) {
    const h = setInterval(onTick, tickMs);
    return () => clearInterval(h);
  },
  now() {
    return performance.now();
  },
};

/** A clock that only moves when told to: `advance(n)` fires n ticks on every subscriber. */
export class ManualClock implements Clock {
  private subscribers = new Set<() => void>();
  private ms = 0;

  every(tickMs: number, onTick: () => void): () => void {
    const sub = () => onTick();
    this.subscribers.add(sub);
    void tickMs;
    return () => this.subscribers.delete(sub);
  }

  now(): number {
    return this.ms;
  }

  advance(ticks = 1, tickMs = 0): void {
    for (let i = 0; i < ticks; i++) {
      this.ms += tickMs;
      for (const s of [...this.subscribers]) s();
    }
  }
}
