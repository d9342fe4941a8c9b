// Polls a condition until it holds or a deadline passes (then throws, naming it).

export async function eventually(what: string, f: () => Promise<boolean> | boolean, timeoutMs = 10_000, everyMs = 20): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`not within ${timeoutMs} ms: ${what}`);
}
