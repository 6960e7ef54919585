// Envoy's HCM path normalization before routing (normalize_path, merge_slashes,
// path_with_escaped_slashes_action), compiled once per HCM and applied once per request.
import { boolValue } from '../../util/values.js';
import type { envoy_extensions_filters_network_http_connection_manager_v3_HttpConnectionManager as HttpConnectionManager } from '../../../xds/envoy-types.js';

/** HttpConnectionManager.PathWithEscapedSlashesAction. */
export const enum EscapedSlashes {
  /** KEEP_UNCHANGED (and IMPLEMENTATION_SPECIFIC_DEFAULT): %2F and %5C stay as they are. */
  Keep = 0,
  /** REJECT_REQUEST: 400. */
  Reject = 1,
  /** UNESCAPE_AND_REDIRECT: 307 to the unescaped (and normalized) path. */
  Redirect = 2,
  /** UNESCAPE_AND_FORWARD: unescape, then route and forward. */
  Forward = 3,
}

/** What normalization decided for one path. */
export const enum PathVerdict {
  /** Route with `result.path` (possibly unchanged). */
  Continue = 0,
  /** 400: the path cannot be normalized (or has escaped slashes under REJECT_REQUEST). */
  Reject = 1,
  /** 307 to `result.path` (UNESCAPE_AND_REDIRECT found escaped slashes). */
  Redirect = 2,
}

/** The result of normalizing one `:path` (query kept unchanged). */
export interface NormalizedPath {
  verdict: PathVerdict;
  path: string;
}

/** Compiled normalization settings of one HCM. */
export class PathNormalizer {
  constructor(
    /** normalize_path: RFC 3986 dot segments, `\` → `/`, unreserved %XX decoded (Chromium's canonicalizer). */
    readonly normalize: boolean,
    /** merge_slashes: `//` → `/`. */
    readonly mergeSlashes: boolean,
    readonly escapedSlashes: EscapedSlashes,
  ) {}

  /** True when this HCM changes nothing (NONE): requests skip the pass entirely. */
  get isNoop(): boolean {
    return !this.normalize && !this.mergeSlashes && this.escapedSlashes === EscapedSlashes.Keep;
  }

  /** Normalizes `path` (`/a/b?q`) in Envoy's order: escaped slashes, canonical path, merge slashes. */
  apply(path: string): NormalizedPath {
    const q = path.indexOf('?');
    let p = q >= 0 ? path.slice(0, q) : path;
    const query = q >= 0 ? path.slice(q) : '';
    let verdict = PathVerdict.Continue;
    if (this.escapedSlashes !== EscapedSlashes.Keep && p.includes('%')) {
      const u = unescapeSlashes(p);
      if (u !== p) {
        if (this.escapedSlashes === EscapedSlashes.Reject) return { verdict: PathVerdict.Reject, path };
        if (this.escapedSlashes === EscapedSlashes.Redirect) verdict = PathVerdict.Redirect;
        p = u;
      }
    }
    if (this.normalize) {
      const c = canonicalPath(p);
      if (c === null) return { verdict: PathVerdict.Reject, path };
      p = c;
    }
    if (this.mergeSlashes && p.includes('//')) p = p.replace(/\/{2,}/g, '/');
    return { verdict, path: p + query };
  }
}

/** Compiles the HCM fields (canonical JSON: `normalizePath`, `mergeSlashes`, `pathWithEscapedSlashesAction`). */
export function compilePathNormalizer(config: HttpConnectionManager): PathNormalizer | null {
  const normalize = boolValue(config.normalizePath, false);
  const merge = config.mergeSlashes === true;
  const action = String(config.pathWithEscapedSlashesAction ?? 'IMPLEMENTATION_SPECIFIC_DEFAULT');
  let escaped: EscapedSlashes;
  switch (action) {
    case 'IMPLEMENTATION_SPECIFIC_DEFAULT':
    case 'KEEP_UNCHANGED':
      escaped = EscapedSlashes.Keep;
      break;
    case 'REJECT_REQUEST':
      escaped = EscapedSlashes.Reject;
      break;
    case 'UNESCAPE_AND_REDIRECT':
      escaped = EscapedSlashes.Redirect;
      break;
    case 'UNESCAPE_AND_FORWARD':
      escaped = EscapedSlashes.Forward;
      break;
    default:
      throw new Error(`pathWithEscapedSlashesAction: unknown value ${action}`);
  }
  const n = new PathNormalizer(normalize, merge, escaped);
  return n.isNoop ? null : n;
}

/** `%2F`/`%2f` → `/`, `%5C`/`%5c` → `\` (Envoy's PathUtil::unescapeSlashes). */
export function unescapeSlashes(p: string): string {
  return p.replace(/%2f/gi, '/').replace(/%5c/gi, '\\');
}

const HEX = '0123456789ABCDEF';

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** RFC 3986 unreserved: ALPHA / DIGIT / - . _ ~ (Chromium decodes these in paths). */
function isUnreserved(c: number): boolean {
  return (
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    (c >= 48 && c <= 57) ||
    c === 45 ||
    c === 46 ||
    c === 95 ||
    c === 126
  );
}

/** Characters Chromium percent-encodes in a path: controls, space, `"`, `<`, `>`, `` ` ``, `{`, `}`, non-ASCII. */
function mustEscape(c: number): boolean {
  return c <= 0x20 || c >= 0x7f || c === 34 || c === 60 || c === 62 || c === 96 || c === 123 || c === 125;
}

/**
 * Envoy's PathUtil::canonicalPath (which uses Chromium's URL path canonicalizer): `\` becomes `/`,
 * %XX of unreserved characters is decoded and other %xx is upper-cased, characters not allowed in a
 * path are escaped, then `.` and `..` segments (also written `%2e`) are resolved, never above the root.
 * Returns null when the path cannot be made canonical (it does not start with `/`).
 */
export function canonicalPath(p: string): string | null {
  if (p.charCodeAt(0) !== 47 && p.charCodeAt(0) !== 92) return null;
  let clean = true;
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c === 37 || c === 46 || c === 92 || mustEscape(c)) {
      clean = false;
      break;
    }
  }
  if (clean) return p;
  // Pass 1: character canonicalization.
  let s = '';
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c === 92) s += '/';
    else if (c === 37) {
      const h = i + 2 < p.length ? hexVal(p.charCodeAt(i + 1)) : -1;
      const l = h >= 0 ? hexVal(p.charCodeAt(i + 2)) : -1;
      if (l < 0) s += '%';
      else {
        const v = h * 16 + l;
        s += isUnreserved(v) ? String.fromCharCode(v) : `%${HEX[h]}${HEX[l]}`;
        i += 2;
      }
    } else if (mustEscape(c)) {
      for (const b of Buffer.from(p[i] === undefined ? '' : String.fromCodePoint(p.codePointAt(i)!))) {
        s += `%${HEX[b >> 4]}${HEX[b & 15]}`;
      }
      if (c >= 0xd800 && c <= 0xdbff) i++;
    } else s += p[i];
  }
  return removeDotSegments(s);
}

/** RFC 3986 §5.2.4 on an absolute path (starts with `/`). */
function removeDotSegments(s: string): string {
  const segs = s.split('/');
  const out: string[] = [];
  // segs[0] is '' (the leading slash).
  for (let i = 1; i < segs.length; i++) {
    const seg = segs[i];
    const last = i === segs.length - 1;
    if (seg === '.') {
      if (last) out.push('');
    } else if (seg === '..') {
      if (out.length > 0) out.pop();
      if (last) out.push('');
    } else out.push(seg);
  }
  return '/' + out.join('/');
}
