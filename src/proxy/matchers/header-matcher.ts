// Envoy's HeaderMatcher (route match, retriable_headers, CORS) compiled once; reads pseudo headers too.
import { StringMatcher, compileRegex } from './string-matcher.js';
import type { envoy_config_route_v3_HeaderMatcher as HeaderMatcherMessage } from '../../xds/envoy-types.js';

/** What header matchers read: regular headers plus the request pseudo headers. */
export interface HeaderSource {
  /** Lower-case header names; multiple values as arrays. */
  readonly headers: Record<string, string | string[] | undefined>;
  /** Value of a pseudo header (`:method`, `:path`, `:authority`, `:scheme`, `:status`), or undefined. */
  pseudo(name: string): string | undefined;
}

/** Value of a header as Envoy sees it for matching: all values joined with ','. */
export function headerValue(src: HeaderSource, name: string): string | undefined {
  if (name.charCodeAt(0) === 58 /* ':' */) return src.pseudo(name);
  const v = src.headers[name];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.join(',');
}

/** A compiled envoy.config.route.v3.HeaderMatcher. */
export class HeaderMatcher {
  readonly name: string;
  private readonly matcher: StringMatcher | null;
  /** For present_match: whether the header must be present (true) or absent (false). */
  private readonly present: boolean | null;
  private readonly range: { start: number; end: number } | null;
  private readonly invert: boolean;
  private readonly missingAsEmpty: boolean;

  constructor(h: HeaderMatcherMessage) {
    this.name = String(h.name ?? '').toLowerCase();
    if (!this.name) throw new Error('header matcher needs a name');
    this.invert = h.invertMatch === true;
    this.missingAsEmpty = h.treatMissingHeaderAsEmpty === true;
    this.present = null;
    this.range = null;
    this.matcher = null;
    if (h.stringMatch) this.matcher = new StringMatcher(h.stringMatch);
    else if (h.exactMatch !== undefined) this.matcher = new StringMatcher({ exact: h.exactMatch });
    else if (h.prefixMatch !== undefined) this.matcher = new StringMatcher({ prefix: h.prefixMatch });
    else if (h.suffixMatch !== undefined) this.matcher = new StringMatcher({ suffix: h.suffixMatch });
    else if (h.containsMatch !== undefined) this.matcher = new StringMatcher({ contains: h.containsMatch });
    else if (h.safeRegexMatch !== undefined) {
      compileRegex(String(h.safeRegexMatch.regex ?? ''));
      this.matcher = new StringMatcher({ safeRegex: h.safeRegexMatch });
    } else if (h.rangeMatch)
      this.range = { start: Number(h.rangeMatch.start ?? 0), end: Number(h.rangeMatch.end ?? 0) };
    else if (h.presentMatch !== undefined) this.present = h.presentMatch === true;
    else this.present = true; // no match specifier: header must be present (Envoy's default)
  }

  /** Evaluates the matcher against a request/response. */
  match(src: HeaderSource): boolean {
    let v = headerValue(src, this.name);
    if (this.present !== null) return ((v !== undefined) === this.present) !== this.invert;
    if (v === undefined) {
      if (!this.missingAsEmpty) return false;
      v = '';
    }
    let r: boolean;
    if (this.range) {
      const n = /^-?\d+$/.test(v) ? Number(v) : NaN;
      r = n >= this.range.start && n < this.range.end;
    } else r = this.matcher!.match(v);
    return r !== this.invert;
  }
}

/** True when every matcher matches (an empty list matches). */
export function matchAllHeaders(list: readonly HeaderMatcher[], src: HeaderSource): boolean {
  for (let i = 0; i < list.length; i++) if (!list[i].match(src)) return false;
  return true;
}
