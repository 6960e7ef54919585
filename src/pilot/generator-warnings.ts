// Config the generators cannot honour for one proxy, reported once per message to the server log
// (the standard: nothing accepted and silently ignored). The control plane sets the sink at start.

/** Messages already reported; bounded so a churning mesh cannot grow it forever. */
const seen = new Set<string>();
const MAX_SEEN = 1000;
let sink: ((message: string) => void) | null = null;

/** Where warnings go (the server's log); null drops them (unit tests of pure generators). */
export function setGeneratorWarningSink(s: ((message: string) => void) | null): void {
  sink = s;
  seen.clear();
}

/** Reports `message` unless it was reported already. */
export function warnOnce(message: string): void {
  if (seen.has(message)) return;
  if (seen.size >= MAX_SEEN) seen.clear();
  seen.add(message);
  sink?.(message);
}
