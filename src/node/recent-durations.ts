// The last N durations of something (fsyncs), for a quantile that describes the store as
// it is now: a Prometheus histogram answers "since the process started", and only to the
// resolution of its buckets; `tinykv cluster status` wants "the p99 of recent fsyncs".

export class RecentDurations {
  private readonly ring: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(readonly capacity = 1024) {
    if (!(Number.isSafeInteger(capacity) && capacity > 0)) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.ring = new Float64Array(capacity);
  }

  push(ms: number): void {
    this.ring[this.next] = ms;
    this.next = (this.next + 1) % this.capacity;
    if (this.filled < this.capacity) this.filled++;
  }

  get count(): number {
    return this.filled;
  }

  /** The q-quantile (0..1, nearest rank) of the samples held; undefined when there are none. */
  quantile(q: number): number | undefined {
    if (this.filled === 0) return undefined;
    const sorted = this.ring.slice(0, this.filled).sort();
    const rank = Math.min(this.filled, Math.max(1, Math.ceil(q * this.filled)));
    return sorted[rank - 1];
  }
}
