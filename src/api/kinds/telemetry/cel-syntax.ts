// CEL syntax check for Telemetry access-log filters, as Istio's validation parses them (no type check).
import { createRequire } from 'node:module';

type Parse = (expr: string) => unknown;
let parseCel: Parse | null = null;

/** Why `expr` does not parse as CEL (`col N: …`), or null when it parses. */
export function celSyntaxError(expr: string): string | null {
  // Loaded on first use: the parser costs ~0.3 s to import, which most CLI runs never need.
  parseCel ??= (createRequire(import.meta.url)('@bufbuild/cel') as { parse: Parse }).parse;
  try {
    parseCel(expr);
    return null;
  } catch (err) {
    // Very deep nesting exhausts the parser's stack: a RangeError, reported like any other refusal.
    const msg = (err as Error).message.split('\n')[0] ?? 'cannot parse';
    const m = /^<input>:(\d+):(\d+): (.*)$/.exec(msg);
    return m ? `line ${m[1]} col ${Number(m[2]) + 1}: ${m[3]}` : msg;
  }
}
