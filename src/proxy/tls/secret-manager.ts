// SDS: the proxy's secrets by name (envoy.extensions.transport_sockets.tls.v3.Secret from the bootstrap
// or the ADS stream). TLS contexts look secrets up per connection and rebuild when the generation moves,
// so a rotated certificate reaches new connections without a restart.
import type { Counter, StatsStore } from '../stats/stats-store.js';
import type { envoy_extensions_transport_sockets_tls_v3_Secret as SecretMessage } from '../../xds/envoy-types.js';
import { compileValidation, readTlsCertificate } from './common-tls-context.js';

/** What TLS contexts need from the secret store. */
export interface SecretLookup {
  /** Increases whenever any secret changes. */
  readonly generation: number;
  /** The canonical Secret named `name`, or undefined when not (yet) delivered. */
  get(name: string): SecretMessage | undefined;
}

/**
 * Where a secret came from: the bootstrap, the ADS stream, or the proxy's own certificate agent (the
 * workload certificate `default` and trust bundle `ROOTCA`, which Envoy gets from istio-agent's SDS).
 */
export type SecretSource = 'static' | 'dynamic' | 'agent';

/** A secret with config-dump bookkeeping. */
export interface SecretEntry {
  readonly name: string;
  /** The canonical Secret. */
  readonly secret: SecretMessage;
  readonly source: SecretSource;
  readonly version: string;
  /** ISO 8601 time of the last change. */
  readonly lastUpdated: string;
}

/** Every secret of the proxy. */
export class SecretManager implements SecretLookup {
  readonly entries = new Map<string, SecretEntry>();
  generation = 0;
  private readonly counters = new Map<string, Counter>();

  constructor(private readonly store: StatsStore | null = null) {}

  get(name: string): SecretMessage | undefined {
    return this.entries.get(name)?.secret;
  }

  /**
   * Applies a state-of-the-world list of secrets. Each secret is checked on its own (its data sources
   * must be readable); a bad one keeps its last good version. Dynamic secrets missing from the list are
   * removed. Returns the error messages (for the NACK).
   */
  apply(list: readonly SecretMessage[], version: string, source: SecretSource): string[] {
    const errors: string[] = [];
    const seen = new Set<string>();
    const now = new Date().toISOString();
    for (const s of list) {
      const name = s?.name ?? '';
      seen.add(name);
      if (!name) {
        errors.push('secret: name is required');
        continue;
      }
      const old = this.entries.get(name);
      if (source === 'dynamic' && old !== undefined && old.source !== 'dynamic') {
        errors.push(
          `secret ${name}: name: already defined ${old.source === 'static' ? 'statically in the bootstrap' : "by the proxy's certificate agent"}`,
        );
        continue;
      }
      if (old && JSON.stringify(old.secret) === JSON.stringify(s)) {
        this.entries.set(name, { ...old, version });
        continue;
      }
      try {
        checkSecret(s);
      } catch (e) {
        errors.push(`secret ${name}: ${(e as Error).message}`);
        continue;
      }
      this.entries.set(name, { name, secret: s, source, version, lastUpdated: now });
      this.generation++;
      this.counter(name).inc();
    }
    if (source === 'dynamic')
      for (const [name, e] of [...this.entries])
        if (e.source === 'dynamic' && !seen.has(name)) {
          this.entries.delete(name);
          this.generation++;
        }
    return errors;
  }

  /** `sds.<name>.update_success`, as Envoy counts secret updates. */
  private counter(name: string): Counter {
    let c = this.counters.get(name);
    if (!c && this.store) {
      c = this.store.counter(`sds.${name}.update_success`, 'sds.update_success', [['envoy_secret', name]]);
      this.counters.set(name, c);
    }
    return c ?? NOOP;
  }
}

const NOOP = { inc(): void {} } as unknown as Counter;

/** Throws when a secret's certificate, key or CA cannot be read, or it sets a field not supported. */
function checkSecret(s: SecretMessage): void {
  if (s.tlsCertificate) {
    readTlsCertificate(s.tlsCertificate, 'tlsCertificate');
  } else if (s.validationContext) {
    compileValidation(s.validationContext, 'validationContext');
  } else if (!s.sessionTicketKeys && !s.genericSecret) {
    throw new Error('needs tlsCertificate, validationContext, sessionTicketKeys or genericSecret');
  }
}
