// ProposalQueue: callbacks of commands this peer proposed, in log order, each settled
// exactly once:
//   - resolved when the entry at its (index, term) is applied;
//   - rejected with StaleCommand when an entry of another term is applied at its index,
//     or when an entry beyond it applies while it is still waiting (it was overwritten);
//   - rejected with the error passed to `failAll` when the peer stops or steps down.

import type { Index, Term } from '../raft/index.js';
import { StaleCommandError } from './errors.js';

export interface Proposal<R> {
  readonly index: Index;
  readonly term: Term;
  resolve(result: R): void;
  reject(err: Error): void;
}

export class ProposalQueue<R> {
  private queue: Proposal<R>[] = [];
  private head = 0;

  get size(): number {
    return this.queue.length - this.head;
  }

  push(p: Proposal<R>): void {
    const last = this.queue[this.queue.length - 1];
    if (last && this.size > 0 && (p.index <= last.index)) {
      throw new Error(`proposal index ${p.index} is not after ${last.index}`);
    }
    this.queue.push(p);
  }

  /**
   * The proposal waiting for the entry (index, term) that is being applied, if any.
   * Proposals at lower indexes were overwritten and are rejected as stale.
   */
  take(index: Index, term: Term): Proposal<R> | undefined {
    while (this.head < this.queue.length) {
      const p = this.queue[this.head]!;
      if (p.index > index) return undefined;
      this.head++;
      this.compact();
      if (p.index === index && p.term === term) return p;
      p.reject(new StaleCommandError(`entry ${p.index} of term ${p.term} was replaced by term ${term}`));
      if (p.index === index) return undefined;
    }
    return undefined;
  }

  failAll(err: Error): void {
    const pending = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    for (const p of pending) p.reject(err);
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
