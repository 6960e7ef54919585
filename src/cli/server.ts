// `mizzen server`: the control plane (Mizzen's istiod) over a watched config directory.
import { resolve } from 'node:path';
import { defineCommand, UsageError } from './command.js';
import { FileStore } from '../config/file-store.js';
import { DiscoveryServer } from '../pilot/discovery.js';
import type { LogLevel } from '../xds/logger.js';

const HELP = `usage: mizzen server --config DIR [--xds-address 127.0.0.1:15010] [--debug-address 127.0.0.1:15014]

Serves the Istio config in DIR (watched; YAML/JSON, recursive) as Envoy v3 resources over ADS.
  --config DIR          directory (or file) of Istio and Kubernetes resources
  --xds-address H:P     xDS gRPC address (port 0 picks a free port)     [127.0.0.1:15010]
  --debug-address H:P   debug HTTP: /debug/configz /debug/syncz /debug/config_dump /metrics [127.0.0.1:15014]
  --verbose             log proxy connections and pushes`;

function checkAddress(flag: string, v: string): string {
  const i = v.lastIndexOf(':');
  const port = Number(v.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`${flag} must be host:port, got ${JSON.stringify(v)}`);
  return v;
}

export default defineCommand({
  name: 'server',
  summary: 'run the control plane: serve Istio config as Envoy resources over ADS',
  help: HELP,
  flags: {
    config: { type: 'string' },
    'xds-address': { type: 'string' },
    'debug-address': { type: 'string' },
    verbose: { type: 'boolean' },
  },
  async run({ flags: values }) {
    if (!values.config) throw new UsageError('--config DIR is required');
    const verbose = values.verbose ?? false;
    const log = (level: LogLevel, message: string): void => {
      if (verbose || level === 'warn' || level === 'error') process.stderr.write(`${level}: ${message}\n`);
    };
    const store = new FileStore(resolve(values.config));
    const server = new DiscoveryServer({
      store,
      xdsAddress: checkAddress('--xds-address', values['xds-address'] ?? '127.0.0.1:15010'),
      debugAddress: checkAddress('--debug-address', values['debug-address'] ?? '127.0.0.1:15014'),
      log,
    });
    const addrs = await server.start();
    const snap = store.snapshot();
    console.log(`config: ${snap.resources.length} resources from ${values.config} (version ${snap.version})`);
    console.log(`xds listening on ${addrs.xds}`);
    if (addrs.debug) console.log(`debug listening on ${addrs.debug}`);
    await new Promise<void>((done) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        done();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await server.close();
    return 0;
  },
});
