// `mizzen agent`: Istio's pilot-agent for a proxyless gRPC app (no proxy): writes the gRPC xDS
// bootstrap (GRPC_XDS_BOOTSTRAP) and keeps the workload certificate in OUTPUT_CERTS fresh.
import { defineCommand, UsageError } from './command.js';
import { certAgentOptions } from './proxy.js';
import { DEFAULT_REFRESH_SECONDS } from '../agent/grpc-bootstrap.js';

const USAGE = `usage:
  mizzen agent --xds-address HOST:PORT --id NODE_ID [--metadata JSON] --grpc-bootstrap FILE
               [--token-file PATH --output-certs DIR]

Runs beside a proxyless gRPC app (as Istio's pilot-agent does with the grpc-agent template): the app
reads the bootstrap (GRPC_XDS_BOOTSTRAP=FILE), uses XdsChannelCredentials / XdsServerCredentials, and
gets its certificate from the files the agent writes. With --token-file, the bootstrap is written
once the first certificate is in OUTPUT_CERTS (key.pem, cert-chain.pem, root-cert.pem), and the
files are replaced on every rotation; without it, the bootstrap has no certificate provider.

flags:
  --xds-address H:P      the control plane's xDS address (gRPC talks to it directly)
  --id NODE_ID           node id, e.g. sidecar~127.1.0.5~client-0.foo~foo.svc.cluster.local
  --metadata JSON        node metadata (NAMESPACE, SERVICE_ACCOUNT, LABELS, ...); GENERATOR=grpc is added
  --grpc-bootstrap FILE  where to write the bootstrap (default $GRPC_XDS_BOOTSTRAP)
  --output-certs DIR     where to write the key and certificates (default $OUTPUT_CERTS)
  --log-level LEVEL      trace|debug|info|warning|error|critical|off (default info)

workload certificate (as mizzen proxy):
  --token-file PATH      the pod's service-account token, sent to the CA as the proof of identity
  --ca-address H:P       CA (IstioCertificateService) address (default: --xds-address)
  --trust-domain TD      SPIFFE trust domain (default cluster.local); the identity is
                         spiffe://TD/ns/<metadata NAMESPACE>/sa/<metadata SERVICE_ACCOUNT or default>
  --cert-ttl DURATION    requested certificate lifetime, e.g. 24h, 30s (default: the CA's, 24h)
  --cert-rotation-fraction F  renew once this fraction of the lifetime has passed (default 0.5)

gRPC re-reads the files every ${DEFAULT_REFRESH_SECONDS} s (Istio's interval), or every quarter of the time a
certificate has left after its renewal when --cert-ttl makes that shorter.`;

export default defineCommand({
  name: 'agent',
  summary: 'run the agent of a proxyless gRPC app: its xDS bootstrap and certificate files',
  help: USAGE,
  flags: {
    'xds-address': { type: 'string' },
    id: { type: 'string' },
    metadata: { type: 'string' },
    'grpc-bootstrap': { type: 'string' },
    'output-certs': { type: 'string' },
    'log-level': { type: 'string' },
    'token-file': { type: 'string' },
    'ca-address': { type: 'string' },
    'trust-domain': { type: 'string' },
    'cert-ttl': { type: 'string' },
    'cert-rotation-fraction': { type: 'string' },
  },
  async run({ flags: values }) {
    const xdsAddress = values['xds-address'];
    if (!xdsAddress) throw new UsageError('need --xds-address');
    if (!values.id) throw new UsageError('need --id');
    const bootstrapFile = values['grpc-bootstrap'] ?? process.env.GRPC_XDS_BOOTSTRAP;
    if (!bootstrapFile) throw new UsageError('need --grpc-bootstrap (or GRPC_XDS_BOOTSTRAP)');
    let metadata: Record<string, unknown> = {};
    if (values.metadata) {
      try {
        metadata = JSON.parse(values.metadata) as Record<string, unknown>;
      } catch (e) {
        throw new UsageError(`--metadata is not JSON: ${(e as Error).message}`);
      }
    }
    const certAgent = certAgentOptions(values, metadata, values.id) ?? null;
    const outputCerts = values['output-certs'] ?? process.env.OUTPUT_CERTS ?? null;
    if (certAgent && !outputCerts)
      throw new UsageError(
        '--token-file needs --output-certs (or OUTPUT_CERTS): where gRPC reads the certificate',
      );
    if (!certAgent && values['output-certs'])
      throw new UsageError("--output-certs needs --token-file (the pod's token for the CA)");
    const { setAllLevels } = await import('../proxy/log.js');
    if (values['log-level'] && !setAllLevels(values['log-level']))
      throw new UsageError(`unknown --log-level "${values['log-level']}"`);
    const { GrpcAgent } = await import('../agent/grpc-agent.js');
    const agent = new GrpcAgent({
      certAgent,
      outputCerts: certAgent ? outputCerts : null,
      bootstrapFile,
      bootstrap: {
        xdsAddress,
        nodeId: values.id,
        metadata,
        refreshSeconds: refreshSeconds(certAgent?.ttlSeconds ?? 0, certAgent?.rotationFraction ?? 0.5),
      },
    });
    // Signals are taken before start(): it writes the bootstrap at once, and whoever waits for that
    // file may stop the agent right after (default SIGTERM handling would end it with no exit code).
    const signalled = new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    agent.start();
    // The certificate agent's timers are unref'd (a proxy's listeners keep it alive): hold the process
    // until a signal.
    const alive = setInterval(() => {}, 1 << 30);
    await signalled;
    clearInterval(alive);
    agent.close();
    return 0;
  },
});

/**
 * gRPC's file re-read interval: Istio's 900 s, shortened for short lifetimes so a renewed
 * certificate is read well before the old one expires (a quarter of the time left after renewal).
 */
export function refreshSeconds(ttlSeconds: number, fraction: number): number {
  if (ttlSeconds <= 0) return DEFAULT_REFRESH_SECONDS;
  return Math.max(1, Math.min(DEFAULT_REFRESH_SECONDS, Math.floor((ttlSeconds * (1 - fraction)) / 4)));
}
