// Envoy's cluster transport_socket_matches: per endpoint, the first entry whose `match` fields all
// equal the endpoint's `envoy.transport_socket_match` metadata picks the transport socket; no match
// falls back to the cluster's transport_socket. Istio's auto mTLS uses it: endpoints with a sidecar
// carry `tlsMode: istio` and get Istio mutual TLS, the rest plaintext.
import { structToJson } from '../../xds/struct.js';
import type { envoy_config_cluster_v3_Cluster_TransportSocketMatch as TransportSocketMatch } from '../../xds/envoy-types.js';
import type { SecretLookup } from '../tls/secret-manager.js';
import { compileUpstreamTransport, type UpstreamTls } from '../tls/upstream-tls.js';
import type { Host } from './host.js';

/** Endpoint metadata namespace the matcher reads. */
export const TRANSPORT_SOCKET_MATCH = 'envoy.transport_socket_match';

interface Entry {
  readonly name: string;
  readonly match: ReadonlyArray<readonly [string, string]>;
  readonly tls: UpstreamTls | null;
}

/** A cluster's compiled transport socket choice. */
export class TransportSockets {
  private readonly entries: readonly Entry[];
  private readonly byHost = new WeakMap<Host, UpstreamTls | null>();

  /** Compiles `transportSocketMatches`; throws naming the entry and field. */
  constructor(
    matches: readonly TransportSocketMatch[] | undefined,
    /** The cluster's own transport_socket (null = plaintext). */
    readonly fallback: UpstreamTls | null,
    secrets: SecretLookup | null,
  ) {
    this.entries = (matches ?? []).map((m, i) => {
      const name = String(m.name ?? '');
      try {
        const fields = structToJson(m.match);
        return {
          name,
          match: Object.entries(fields).map(([k, v]) => [k, JSON.stringify(v)] as const),
          tls: compileUpstreamTransport(m.transportSocket, secrets),
        };
      } catch (e) {
        throw new Error(`transportSocketMatches[${i}] (${name}).${(e as Error).message}`);
      }
    });
  }

  /** True when every endpoint uses the cluster's transport_socket. */
  get uniform(): boolean {
    return this.entries.length === 0;
  }

  /** The TLS settings for connections to `host` (null = plaintext). */
  forHost(host: Host): UpstreamTls | null {
    if (this.entries.length === 0) return this.fallback;
    let t = this.byHost.get(host);
    if (t !== undefined) return t;
    const md = structToJson(host.metadata?.filterMetadata?.[TRANSPORT_SOCKET_MATCH]);
    const hit = this.entries.find((e) => e.match.every(([k, v]) => k in md && JSON.stringify(md[k]) === v));
    t = hit ? hit.tls : this.fallback;
    this.byHost.set(host, t);
    return t;
  }
}
