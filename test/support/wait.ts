// Waiting in tests. `eventually` polls a condition until it holds, which is what a test
// means by "wait until": it returns as soon as the thing has happened, and fails naming it
// when it does not happen in time. `sleep` is for the few waits where time passing is the
// point (showing that nothing happens meanwhile, or pacing a load); each such call says why.

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface WaitOptions {
  /** Default 10 s. */
  readonly timeoutMs?: number;
  /** Between polls; default 20 ms. */
  readonly everyMs?: number;
  /**
   * A throw from the condition counts as "not yet" (a probe of a store that is still
   * starting); the last one is named if time runs out. Default: a throw fails the wait at once.
   */
  readonly retryErrors?: boolean;
}

/**
 * Polls `f` until it returns something other than undefined or false, and resolves with
 * that (true for a boolean condition); throws `not within N ms: <what>` at the deadline.
 * The third argument is the timeout in ms, or the options.
 */
export async function eventually<R>(
  what: string, f: () => R | Promise<R>, o: number | WaitOptions = {},
): Promise<Exclude<R, undefined | false>> {
  const { timeoutMs = 10_000, everyMs = 20, retryErrors = false } = typeof o === 'number' ? { timeoutMs: o } : o;
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined && v !== false) return v as Exclude<R, undefined | false>;
    } catch (e) {
      if (!retryErrors) throw e;
      last = e;
    }
    if (Date.now() >= until) {
      throw new Error(`not within ${timeoutMs} ms: ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    }
    await sleep(everyMs);
  }
}
