// A compiled RouteConfiguration: Envoy's virtual-host selection by :authority (exact, then longest
// suffix wildcard, then longest prefix wildcard, then '*') and ordered route matching.
import { ConfigError } from '../../util/values.js';
import { HeaderMutation } from './header-mutation.js';
import { RouteEntry, type PerFilterCompiler, type RouteRequest } from './route-entry.js';
import { VirtualHost } from './virtual-host.js';
import { splitAuthority } from './redirect.js';
import type { envoy_config_route_v3_RouteConfiguration as RouteConfiguration } from '../../../xds/envoy-types.js';

/** Result of route selection. */
export interface RouteMatch {
  readonly vhost: VirtualHost;
  readonly route: RouteEntry;
}

/** An immutable compiled envoy.config.route.v3.RouteConfiguration. */
export class RouteTable {
  readonly name: string;
  readonly virtualHosts: readonly VirtualHost[];
  readonly requestHeaders: HeaderMutation | null;
  readonly responseHeaders: HeaderMutation | null;
  private readonly exact = new Map<string, VirtualHost>();
  /** `*.foo.com` entries as [suffix '.foo.com', vhost], longest first. */
  private readonly suffixes: Array<[string, VirtualHost]> = [];
  /** `foo.*` entries as [prefix 'foo.', vhost], longest first. */
  private readonly prefixes: Array<[string, VirtualHost]> = [];
  private readonly fallback: VirtualHost | null = null;
  private readonly ignorePort: boolean;

  /** Compiles a canonical RouteConfiguration. Throws ConfigError naming the route config and field. */
  constructor(
    /** The canonical RouteConfiguration. */
    readonly config: RouteConfiguration,
    compile: PerFilterCompiler,
    /**
     * Virtual hosts compiled earlier, by message object (VHDS: an update hands over the unchanged hosts as
     * the objects they were, so only changed ones compile); hosts compiled here are added.
     */
    compiled?: WeakMap<object, VirtualHost>,
  ) {
    this.name = String(config.name ?? '');
    try {
      this.requestHeaders = HeaderMutation.of(config.requestHeadersToAdd, config.requestHeadersToRemove);
      this.responseHeaders = HeaderMutation.of(config.responseHeadersToAdd, config.responseHeadersToRemove);
      this.virtualHosts = (config.virtualHosts ?? []).map((v, i) => {
        let vh = compiled?.get(v);
        if (!vh) {
          vh = new VirtualHost(v, compile, `virtualHosts[${i}]`);
          compiled?.set(v, vh);
        }
        return vh;
      });
    } catch (e) {
      throw new ConfigError(
        this.name || '(unnamed route configuration)',
        fieldOf((e as Error).message),
        restOf((e as Error).message),
      );
    }
    this.ignorePort = config.ignorePortInHostMatching === true;
    let fallback: VirtualHost | null = null;
    for (const v of this.virtualHosts) {
      for (const d of v.domains) {
        if (d === '*') {
          if (fallback)
            throw new ConfigError(this.name, 'virtualHosts.domains', `only one '*' virtual host allowed`);
          fallback = v;
        } else if (d.startsWith('*')) this.suffixes.push([d.slice(1), v]);
        else if (d.endsWith('*')) this.prefixes.push([d.slice(0, -1), v]);
        else {
          if (this.exact.has(d))
            throw new ConfigError(this.name, 'virtualHosts.domains', `duplicate domain "${d}"`);
          this.exact.set(d, v);
        }
      }
    }
    this.fallback = fallback;
    this.suffixes.sort((a, b) => b[0].length - a[0].length);
    this.prefixes.sort((a, b) => b[0].length - a[0].length);
  }

  /** The virtual host for an :authority value, or null. */
  virtualHost(authority: string): VirtualHost | null {
    let host = authority.toLowerCase();
    if (this.ignorePort) host = splitAuthority(host)[0];
    const e = this.exact.get(host);
    if (e) return e;
    for (const [s, v] of this.suffixes) if (host.length > s.length && host.endsWith(s)) return v;
    for (const [p, v] of this.prefixes) if (host.length > p.length && host.startsWith(p)) return v;
    return this.fallback;
  }

  /** Selects virtual host and route for a request, or null (404 NR). */
  route(req: RouteRequest): RouteMatch | null {
    const vhost = this.virtualHost(req.authority);
    if (!vhost) return null;
    const route = vhost.route(req);
    return route ? { vhost, route } : null;
  }
}

/** Field path of a compile error message `path: what` (the part before the first ': '). */
function fieldOf(msg: string): string {
  const i = msg.indexOf(': ');
  return i > 0 && !msg.slice(0, i).includes(' ') ? msg.slice(0, i) : '';
}
function restOf(msg: string): string {
  return fieldOf(msg) ? msg.slice(msg.indexOf(': ') + 2) : msg;
}
