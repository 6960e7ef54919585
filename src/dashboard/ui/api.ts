// The dashboard API as the UI sees it: typed GETs and a polling hook.
import { useEffect, useState } from 'preact/hooks';

/** GETs `path` as JSON; throws with the server's `error` on a non-2xx answer. */
export async function getJson<T>(path: string): Promise<T> {
  const r = await fetch(path, { cache: 'no-store' });
  const body = (await r.json()) as T & { error?: string };
  if (!r.ok && !(body && typeof body === 'object' && 'proxy' in body))
    throw new Error(body?.error ?? `HTTP ${r.status}`);
  return body;
}

/** What a poll has: the last good value, the last error, when it last succeeded. */
export interface Polled<T> {
  readonly data: T | null;
  readonly error: string | null;
  readonly at: number;
}

/** Fetches `path` now and every `everyMs` while mounted (and again whenever `path` changes). */
export function usePoll<T>(path: string, everyMs: number): Polled<T> {
  const [state, setState] = useState<Polled<T>>({ data: null, error: null, at: 0 });
  useEffect(() => {
    let live = true;
    const tick = (): void => {
      getJson<T>(path).then(
        (data) => live && setState({ data, error: null, at: Date.now() }),
        (e: Error) => live && setState((s) => ({ ...s, error: e.message })),
      );
    };
    tick();
    const t = setInterval(tick, everyMs);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [path, everyMs]);
  return state;
}
