// `mizzen server --webhook-address`: the admission webhooks (injection, validation) beside the control plane.
import { meshPrometheusMerge } from '../local/prometheus-merge.js';
import { readFileSync } from 'node:fs';
import { UsageError } from './command.js';
import { WebhookServer as Webhooks } from '../kube/webhook-server.js';
import { defaultDiscoveryAddress, defaultImage } from '../kube/defaults.js';
import type { LogLevel } from '../xds/logger.js';

/** A started webhook server and where it listens. */
export interface WebhookServer {
  readonly address: string;
  close(): Promise<void>;
}

/** Reads the certificate and key, and listens on --webhook-address. */
export async function startWebhooks(
  flags: {
    'webhook-address'?: string;
    'webhook-cert'?: string;
    'webhook-key'?: string;
    'inject-image'?: string;
    'inject-discovery-address'?: string;
  },
  log: (level: LogLevel, m: string) => void,
  /** The served `mesh` text of ConfigMap istio-system/istio (MeshConfig), read at each injection. */
  meshText: () => string | undefined,
): Promise<{ server: WebhookServer }> {
  const address = flags['webhook-address']!;
  if (!flags['webhook-cert'] || !flags['webhook-key'])
    throw new UsageError(
      '--webhook-address needs --webhook-cert FILE and --webhook-key FILE (the API server only calls webhooks over HTTPS)',
    );
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i);
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--webhook-address must be host:port, got ${JSON.stringify(address)}`);
  const read = (flag: 'webhook-cert' | 'webhook-key'): Buffer => {
    try {
      return readFileSync(flags[flag]!);
    } catch (err) {
      throw new Error(`--${flag}: ${(err as Error).message}`);
    }
  };
  const webhooks = new Webhooks({
    cert: read('webhook-cert'),
    key: read('webhook-key'),
    inject: {
      image: flags['inject-image'] ?? defaultImage(),
      discoveryAddress: flags['inject-discovery-address'] ?? defaultDiscoveryAddress(),
      enablePrometheusMerge: () => meshPrometheusMerge(meshText()),
    },
    log: (line) => log('warn', line),
  });
  const bound = await webhooks.listen(host, port);
  return { server: { address: `${host}:${bound}`, close: () => webhooks.close() } };
}
