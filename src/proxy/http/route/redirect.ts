// RedirectAction: builds the Location of a redirect response from the request, as Envoy does.
import { RegexRewrite } from './path-rewrite.js';
import type { envoy_config_route_v3_RedirectAction as RedirectAction } from '../../../xds/envoy-types.js';

const CODES: Record<string, number> = {
  MOVED_PERMANENTLY: 301,
  FOUND: 302,
  SEE_OTHER: 303,
  TEMPORARY_REDIRECT: 307,
  PERMANENT_REDIRECT: 308,
};

/** The request parts a redirect reads. */
export interface RedirectInput {
  readonly scheme: string;
  readonly authority: string;
  /** Full :path including query. */
  readonly path: string;
}

/** A compiled envoy.config.route.v3.RedirectAction. */
export class Redirect {
  readonly status: number;
  private readonly scheme: string | null;
  private readonly host: string | null;
  private readonly port: number;
  private readonly pathRedirect: string | null;
  private readonly prefixRewrite: string | null;
  private readonly regexRewrite: RegexRewrite | null;
  private readonly stripQuery: boolean;

  constructor(r: RedirectAction) {
    this.status = CODES[String(r.responseCode ?? 'MOVED_PERMANENTLY')] ?? 301;
    this.scheme = r.httpsRedirect ? 'https' : r.schemeRedirect ? String(r.schemeRedirect) : null;
    this.host = r.hostRedirect ? String(r.hostRedirect) : null;
    this.port = Number(r.portRedirect ?? 0);
    this.pathRedirect = r.pathRedirect !== undefined ? String(r.pathRedirect) : null;
    this.prefixRewrite = r.prefixRewrite !== undefined ? String(r.prefixRewrite) : null;
    this.regexRewrite = r.regexRewrite ? new RegexRewrite(r.regexRewrite) : null;
    this.stripQuery = r.stripQuery === true;
  }

  /** The Location header value. `matchedPrefix` is the route's prefix match (for prefix_rewrite). */
  location(req: RedirectInput, matchedPrefix: string | null): string {
    const scheme = this.scheme ?? req.scheme;
    let [host, port] = splitAuthority(req.authority);
    if (this.host !== null) {
      const [h, p] = splitAuthority(this.host);
      host = h;
      if (p) port = p;
    }
    if (this.port) port = String(this.port);
    else if (this.scheme !== null && this.scheme !== req.scheme && port === defaultPort(req.scheme))
      port = '';
    if (port === defaultPort(scheme)) port = '';
    const q = req.path.indexOf('?');
    const pathOnly = q >= 0 ? req.path.slice(0, q) : req.path;
    let query = q >= 0 && !this.stripQuery ? req.path.slice(q) : '';
    let path = pathOnly;
    if (this.pathRedirect !== null) {
      path = this.pathRedirect;
      const pq = path.indexOf('?');
      if (pq >= 0) {
        query = path.slice(pq);
        path = path.slice(0, pq);
      }
    } else if (this.prefixRewrite !== null && matchedPrefix !== null) {
      path = this.prefixRewrite + pathOnly.slice(matchedPrefix.length);
    } else if (this.regexRewrite) path = this.regexRewrite.apply(pathOnly);
    return `${scheme}://${host}${port ? `:${port}` : ''}${path}${query}`;
  }
}

function defaultPort(scheme: string): string {
  return scheme === 'https' ? '443' : scheme === 'http' ? '80' : '';
}

/** Splits `host:port` (IPv6 in brackets) into host and port ('' when absent). */
export function splitAuthority(a: string): [string, string] {
  if (a.startsWith('[')) {
    const end = a.indexOf(']');
    return [a.slice(0, end + 1), a[end + 1] === ':' ? a.slice(end + 2) : ''];
  }
  const i = a.lastIndexOf(':');
  return i >= 0 ? [a.slice(0, i), a.slice(i + 1)] : [a, ''];
}
