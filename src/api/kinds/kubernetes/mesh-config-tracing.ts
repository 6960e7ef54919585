// MeshConfig tracing settings Mizzen accepts but does not act on: named in a warning at validate, apply
// and up, instead of being silently ignored (the providers' other fields drive the proxies' tracers).
import { child, isPlainObject, type At, type Checker } from '../../schema.js';

type Obj = Record<string, unknown>;

/** Per provider type: fields Mizzen does not enforce → why (dotted paths inside the provider). */
const UNENFORCED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  zipkin: {
    enable64bitTraceId: 'trace ids are always 128-bit',
    timeout: 'reports time out after 5s',
    headers: 'reports carry no extra headers',
  },
  opentelemetry: {
    resourceDetectors: 'the resource carries service.name only',
    dynatraceSampler: 'sampling follows Telemetry / MeshConfig percentages',
    'grpc.initialMetadata': 'OTLP/gRPC reports carry no extra metadata',
  },
};

/** defaultConfig.tracing fields besides `sampling` (legacy tracers are logged by the server). */
const LEGACY_UNENFORCED: Readonly<Record<string, string>> = {
  customTags: 'use Telemetry tracing customTags',
  custom_tags: 'use Telemetry tracing customTags',
  maxPathTagLength: 'set maxTagLength on the extensionProviders entry',
  max_path_tag_length: 'set maxTagLength on the extensionProviders entry',
  tlsSettings: 'reports are sent in plaintext',
  tls_settings: 'reports are sent in plaintext',
};

/** The value at a dotted path, and the At of its last key; undefined when absent. */
function at(holder: Obj, base: At, path: string): [unknown, At] | undefined {
  let o: unknown = holder;
  let a = base;
  for (const k of path.split('.')) {
    if (!isPlainObject(o) || o[k] === undefined) return undefined;
    a = child(a, o, k);
    o = o[k];
  }
  return [o, a];
}

/** Warns about each extensionProviders tracing field and defaultConfig.tracing field that has no effect. */
export function warnUnenforcedTracing(doc: Obj, base: At, c: Checker): void {
  const providers = doc.extensionProviders;
  if (Array.isArray(providers))
    providers.forEach((p, i) => {
      if (!isPlainObject(p)) return;
      const pAt = child(child(base, doc, 'extensionProviders'), providers, i);
      for (const [type, fields] of Object.entries(UNENFORCED)) {
        if (!isPlainObject(p[type])) continue;
        const tAt = child(pAt, p, type);
        for (const [field, why] of Object.entries(fields)) {
          const f = at(p[type], tAt, field);
          if (f) c.warn(f[1], `is not enforced (${why}); it has no effect in Mizzen`);
        }
      }
    });
  const legacy = at(doc, base, 'defaultConfig.tracing');
  if (legacy && isPlainObject(legacy[0]))
    for (const [field, why] of Object.entries(LEGACY_UNENFORCED)) {
      const f = at(legacy[0], legacy[1], field);
      if (f) c.warn(f[1], `is not enforced (${why}); it has no effect in Mizzen`);
    }
}
