// google.protobuf.Duration, the one Envoy-duration helper of both planes: proto3 JSON text ("1.5s") ⇄ canonical `{ seconds, nanos }` ⇄ milliseconds.

/** A Duration in canonical form: zero fields omitted; `seconds` may arrive as a string (int64). */
export interface CanonicalDuration {
  seconds?: number | string;
  nanos?: number;
}

const JSON_DURATION = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;

/** Parses proto3 JSON duration text ("1.5s", "-0.25s", "10s"); undefined when it is not one. */
export function parseJsonDuration(text: string): { seconds?: number; nanos?: number } | undefined {
  const m = JSON_DURATION.exec(text.trim());
  if (!m) return undefined;
  const sign = m[1] ? -1 : 1;
  const out: { seconds?: number; nanos?: number } = {};
  const seconds = Number(m[2]) * sign;
  const nanos = Number((m[3] ?? '').padEnd(9, '0')) * sign;
  if (seconds !== 0) out.seconds = seconds;
  if (nanos !== 0) out.nanos = nanos;
  return out;
}

/** Milliseconds as a canonical Duration (a zero duration is `{}`). */
export function durationFromMs(ms: number): { seconds?: number; nanos?: number } {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  const out: { seconds?: number; nanos?: number } = {};
  if (seconds !== 0) out.seconds = seconds;
  if (nanos !== 0) out.nanos = nanos;
  return out;
}

/** Milliseconds of a canonical Duration. */
export function durationToMs(d: CanonicalDuration): number {
  return Number(d.seconds ?? 0) * 1000 + Number(d.nanos ?? 0) / 1e6;
}
