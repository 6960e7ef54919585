// HCM tracing custom_tags (Istio's Telemetry customTags): literal, environment (read once at config
// time) and request-header tags, compiled into name/value pairs evaluated when a span finishes.
import type { HeaderMap } from '../http/route/header-mutation.js';
import type { envoy_type_tracing_v3_CustomTag as CustomTagConfig } from '../../xds/envoy-types.js';
import { logger } from '../log.js';

const log = logger('tracing');

/** One compiled custom tag. */
export interface CustomTag {
  readonly tag: string;
  /** Fixed value (literal, environment), or null when read from a request header. */
  readonly value: string | null;
  /** Lower-case request header name ('' for fixed tags). */
  readonly header: string;
  /** Value when the header is absent ('' = tag not set). */
  readonly defaultValue: string;
}

/** Compiles `tracing.customTags`; tags of kinds not supported (metadata) are logged and skipped. */
export function compileCustomTags(list: readonly CustomTagConfig[] | undefined): CustomTag[] {
  const out: CustomTag[] = [];
  for (const t of list ?? []) {
    const tag = t.tag ?? '';
    if (!tag) continue;
    if (t.literal) out.push({ tag, value: t.literal.value ?? '', header: '', defaultValue: '' });
    else if (t.environment) {
      const v = process.env[t.environment.name ?? ''] ?? t.environment.defaultValue ?? '';
      if (v !== '') out.push({ tag, value: v, header: '', defaultValue: '' });
    } else if (t.requestHeader)
      out.push({
        tag,
        value: null,
        header: (t.requestHeader.name ?? '').toLowerCase(),
        defaultValue: t.requestHeader.defaultValue ?? '',
      });
    else
      log.warn(`tracing custom tag ${tag}: only literal, environment and requestHeader tags are supported`);
  }
  return out;
}

/** Adds the custom tags to `tags`. */
export function applyCustomTags(
  list: readonly CustomTag[],
  h: HeaderMap,
  tags: Record<string, string>,
): void {
  for (let i = 0; i < list.length; i++) {
    const t = list[i];
    if (t.value !== null) {
      tags[t.tag] = t.value;
      continue;
    }
    const v = h[t.header];
    const s = v === undefined ? t.defaultValue : typeof v === 'string' ? v : v.join(',');
    if (s !== '') tags[t.tag] = s;
  }
}
