// Test helpers for the api package: table-driven valid/invalid documents; waitFor, the one deadline poll every package's tests use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadText } from './load.js';
import { formatDiagnostic, type Diagnostic } from './diagnostic.js';

/** An expected diagnostic: field path, message pattern, and optionally its line. */
export interface Expect {
  path: string;
  message: RegExp;
  line?: number;
}

/** One row of a validation table. `errors` absent/empty means the document must be valid. */
export interface Case {
  name: string;
  yaml: string;
  errors?: Expect[];
  warnings?: Expect[];
  /** The document must load without any warning. */
  noWarnings?: boolean;
}

/** Loads a YAML text as file `t.yaml`. */
export function load(yaml: string): ReturnType<typeof loadText> {
  return loadText(yaml, 't.yaml');
}

function matches(d: Diagnostic, e: Expect): boolean {
  return d.path === e.path && e.message.test(d.message) && (e.line === undefined || d.line === e.line);
}

/** Registers one node:test per case. Invalid cases must report each expected error (others may follow). */
export function runTable(group: string, cases: readonly Case[]): void {
  for (const c of cases) {
    test(`${group}: ${c.name}`, () => {
      const r = load(c.yaml);
      const errs = r.diagnostics.filter((d) => d.severity === 'error');
      const warns = r.diagnostics.filter((d) => d.severity === 'warning');
      const shown = r.diagnostics.map(formatDiagnostic).join('\n');
      if (!c.errors || c.errors.length === 0) {
        assert.equal(errs.length, 0, `expected valid, got:\n${shown}`);
        assert.equal(r.resources.length > 0, true, 'expected a resource');
      } else {
        assert.equal(r.resources.length, 0, `expected the document to be rejected:\n${shown}`);
        for (const e of c.errors) {
          assert.ok(
            errs.some((d) => matches(d, e)),
            `expected an error at ${e.path} matching ${e.message}${e.line ? ` on line ${e.line}` : ''}, got:\n${shown}`,
          );
        }
      }
      if (c.noWarnings) assert.equal(warns.length, 0, `expected no warnings, got:\n${shown}`);
      for (const w of c.warnings ?? []) {
        assert.ok(
          warns.some((d) => matches(d, w)),
          `expected a warning at ${w.path} matching ${w.message}, got:\n${shown}`,
        );
      }
    });
  }
}

/**
 * Polls `check` (sync or async) every `intervalMs` until it returns something truthy, and resolves
 * with it; rejects naming `what` after `timeoutMs`. The deadline poll of every package's tests (their
 * test-util re-exports it): wait on this or on an event, never on a fixed sleep.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
  intervalMs = 10,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
