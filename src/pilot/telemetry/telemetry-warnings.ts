// Telemetry settings that validate on their own but cannot take effect with this mesh's MeshConfig:
// providers no extensionProviders entry defines, provider types Mizzen does not run. Logged by the
// server whenever the list changes, so nothing is silently ignored.
import type { Telemetry } from '../../api/kinds/telemetry/telemetry.js';
import type { PushContext } from '../push-context.js';

const BUILT_IN = new Set(['prometheus', 'envoy']);

const resName = (r: Telemetry): string => `Telemetry ${r.metadata.namespace ?? 'default'}/${r.metadata.name}`;

/** One line per setting that has no effect, with the resource it is in. */
export function telemetryWarnings(push: PushContext): string[] {
  const t = push.mesh.telemetry;
  const out = [...t.unsupported.map((u) => `MeshConfig ${u}`)];
  const known = new Map(t.extensionProviders.map((p) => [p.name, p.kind]));
  const check = (res: string, where: string, names: readonly string[], kinds: readonly string[]): void => {
    for (const n of names) {
      const kind =
        BUILT_IN.has(n) && !known.has(n)
          ? n === 'envoy'
            ? 'envoyFileAccessLog'
            : 'prometheus'
          : known.get(n);
      if (kind === undefined)
        out.push(
          `${res}: ${where} provider "${n}" is not defined in MeshConfig extensionProviders; it has no effect`,
        );
      else if (!kinds.includes(kind))
        out.push(
          `${res}: ${where} provider "${n}" (${kind}) is not supported for ${where}; it has no effect`,
        );
    }
  };
  check('MeshConfig defaultProviders', 'metrics', t.defaultProviders.metrics, ['prometheus']);
  check('MeshConfig defaultProviders', 'accessLogging', t.defaultProviders.accessLogging, [
    'envoyFileAccessLog',
  ]);
  check('MeshConfig defaultProviders', 'tracing', t.defaultProviders.tracing, ['zipkin', 'opentelemetry']);
  for (const r of push.snapshot.byKind('Telemetry') as Telemetry[]) {
    for (const tr of r.spec.tracing ?? [])
      check(
        resName(r),
        'tracing',
        (tr.providers ?? []).map((p) => p.name),
        ['zipkin', 'opentelemetry'],
      );
    const res = resName(r);
    for (const m of r.spec.metrics ?? [])
      check(
        res,
        'metrics',
        (m.providers ?? []).map((p) => p.name),
        ['prometheus'],
      );
    for (const a of r.spec.accessLogging ?? [])
      check(
        res,
        'accessLogging',
        (a.providers ?? []).map((p) => p.name),
        ['envoyFileAccessLog'],
      );
  }
  return out;
}
