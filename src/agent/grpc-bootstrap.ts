// The gRPC xDS bootstrap Istio's pilot-agent writes for proxyless gRPC apps (GRPC_XDS_BOOTSTRAP):
// the control plane to ask, the node (GENERATOR=grpc so the server answers with gRPC's config), the
// `default` file_watcher certificate provider over the agent's OUTPUT_CERTS files, and the listener
// name template of xDS-enabled gRPC servers.
import { join } from 'node:path';
import { atomicWrite } from './atomic-write.js';

/** File names inside OUTPUT_CERTS, as Istio's agent writes them. */
export const KEY_FILE = 'key.pem';
export const CERT_CHAIN_FILE = 'cert-chain.pem';
export const ROOT_CERT_FILE = 'root-cert.pem';

/** Istio's template for the Listener a gRPC server asks for (`%s` = its listening `ip:port`). */
export const SERVER_LISTENER_NAME_TEMPLATE = 'xds.istio.io/grpc/lds/inbound/%s';

/** How often gRPC re-reads the certificate files, seconds (Istio writes 900 s). */
export const DEFAULT_REFRESH_SECONDS = 900;

/** What the bootstrap describes. */
export interface GrpcBootstrapOptions {
  /** The control plane's xDS address `host:port`. */
  readonly xdsAddress: string;
  /** Node id, e.g. sidecar~127.1.0.5~client-0.foo~foo.svc.cluster.local. */
  readonly nodeId: string;
  /** Node metadata (NAMESPACE, LABELS, ...); GENERATOR=grpc is added. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** OUTPUT_CERTS: where the key and certificates are; null = no certificate provider. */
  readonly certDir: string | null;
  /** File refresh interval of the certificate provider, seconds. */
  readonly refreshSeconds: number;
}

/** The bootstrap as gRPC reads it (snake_case JSON). */
export function buildGrpcBootstrap(o: GrpcBootstrapOptions): Record<string, unknown> {
  const bootstrap: Record<string, unknown> = {
    xds_servers: [
      { server_uri: o.xdsAddress, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] },
    ],
    node: { id: o.nodeId, locality: {}, metadata: { ...o.metadata, GENERATOR: 'grpc' } },
    server_listener_resource_name_template: SERVER_LISTENER_NAME_TEMPLATE,
  };
  if (o.certDir !== null)
    bootstrap.certificate_providers = {
      default: {
        plugin_name: 'file_watcher',
        config: {
          certificate_file: join(o.certDir, CERT_CHAIN_FILE),
          private_key_file: join(o.certDir, KEY_FILE),
          ca_certificate_file: join(o.certDir, ROOT_CERT_FILE),
          refresh_interval: `${o.refreshSeconds}s`,
        },
      },
    };
  return bootstrap;
}

/** Writes the bootstrap to `file` atomically. */
export function writeGrpcBootstrap(file: string, o: GrpcBootstrapOptions): void {
  atomicWrite(file, `${JSON.stringify(buildGrpcBootstrap(o), null, 2)}\n`);
}
