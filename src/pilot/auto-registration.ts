// WorkloadEntry auto-registration (Istio's VM auto-registration): a proxy that connects with
// AUTO_REGISTER_GROUP gets a WorkloadEntry from its WorkloadGroup; it is removed when the proxy goes away.
import type { Resource } from '../api/resource.js';
import type { WorkloadEntry, WorkloadEntrySpec } from '../api/kinds/networking/workload-entry.js';
import type { WorkloadGroup } from '../api/kinds/networking/workload-group.js';
import type { ConfigSnapshot } from '../config/store.js';
import type { ResourceRef } from '../config/writable-store.js';
import type { ProxyInfo } from '../xds/ads-server.js';
import type { XdsLogger } from '../xds/logger.js';
import { AUTO_REGISTRATION_GROUP } from '../registry/workloads.js';
import { localityString } from '../registry/locality.js';
import { parseProxy } from './proxy.js';

/** Istio's annotation naming the control-plane instance that keeps an auto-registered entry. */
export const WORKLOAD_CONTROLLER = 'istio.io/workloadController';
/** Istio's annotation: when the proxy of an auto-registered entry connected (RFC 3339). */
export const CONNECTED_AT = 'istio.io/connectedAt';

/** Where registrations are written (etcd: under the replica's lease, see LeasedRegistrations). */
export interface RegistrationSink {
  register(entry: Resource): Promise<void>;
  /** Deletes the entry if this replica still holds it. */
  unregister(ref: ResourceRef): Promise<boolean>;
}

/** Options of {@link WorkloadAutoRegistration}. */
export interface AutoRegistrationOptions {
  readonly sink: RegistrationSink;
  /** The current config (WorkloadGroups are read from it). */
  readonly snapshot: () => ConfigSnapshot;
  /** This replica's name, written to `istio.io/workloadController`. */
  readonly controller: string;
  /** How long an entry outlives its proxy's last stream, ms (Istio's PILOT_WORKLOAD_ENTRY_GRACE_PERIOD, 10 s). */
  readonly gracePeriodMs?: number;
  readonly log: XdsLogger;
}

/** One registered workload: its streams on this replica and the pending removal. */
interface Registration {
  readonly ref: ResourceRef;
  streams: number;
  removal: NodeJS.Timeout | null;
}

/**
 * Turns ADS connections into WorkloadEntries. Istio's behaviour: the entry is named
 * `<group>-<ip>`, takes the group's template and metadata plus the proxy's LABELS, and is removed a
 * grace period after the proxy's last stream closed (a proxy that reconnects in time keeps it). The
 * proxy's heartbeat is its ADS stream (gRPC keepalive); a replica that dies stops renewing its lease,
 * so its entries vanish after the lease TTL unless the proxies re-registered with another replica.
 */
export class WorkloadAutoRegistration {
  private readonly registrations = new Map<string, Registration>();

  constructor(private readonly options: AutoRegistrationOptions) {}

  /** Called when a proxy's ADS stream started. */
  connected(info: ProxyInfo): void {
    const group = info.metadata.AUTO_REGISTER_GROUP;
    if (typeof group !== 'string' || group === '') return;
    const entry = this.entryFor(info, group);
    if (!entry) return;
    const key = `${entry.metadata.namespace}/${entry.metadata.name}`;
    let reg = this.registrations.get(key);
    if (!reg) {
      reg = {
        ref: { kind: 'WorkloadEntry', namespace: entry.metadata.namespace!, name: entry.metadata.name },
        streams: 0,
        removal: null,
      };
      this.registrations.set(key, reg);
    }
    reg.streams++;
    if (reg.removal) clearTimeout(reg.removal);
    reg.removal = null;
    this.options.sink.register(entry).then(
      () => this.options.log('info', `auto-registration: WorkloadEntry ${key} registered for ${info.id}`),
      (err: Error) =>
        this.options.log('error', `auto-registration: writing WorkloadEntry ${key} failed: ${err.message}`),
    );
  }

  /** Called when a proxy's ADS stream ended. */
  disconnected(info: ProxyInfo): void {
    const group = info.metadata.AUTO_REGISTER_GROUP;
    if (typeof group !== 'string' || group === '') return;
    const p = parseProxy(info);
    const key = `${p.namespace}/${entryName(group, p.ip)}`;
    const reg = this.registrations.get(key);
    if (!reg || --reg.streams > 0) return;
    reg.removal = setTimeout(() => {
      this.registrations.delete(key);
      this.options.sink.unregister(reg.ref).then(
        (deleted) =>
          deleted &&
          this.options.log('info', `auto-registration: WorkloadEntry ${key} removed (its proxy left)`),
        (err: Error) =>
          this.options.log(
            'error',
            `auto-registration: removing WorkloadEntry ${key} failed: ${err.message}`,
          ),
      );
    }, this.options.gracePeriodMs ?? 10_000);
    reg.removal.unref();
  }

  /** Stops pending removals (the lease takes care of entries when this replica is gone). */
  close(): void {
    for (const reg of this.registrations.values()) if (reg.removal) clearTimeout(reg.removal);
    this.registrations.clear();
  }

  private entryFor(info: ProxyInfo, group: string): WorkloadEntry | null {
    const p = parseProxy(info);
    const wg = this.options.snapshot().get('WorkloadGroup', p.namespace, group) as WorkloadGroup | undefined;
    if (!wg) {
      this.options.log(
        'warn',
        `auto-registration: proxy ${info.id} names WorkloadGroup ${p.namespace}/${group} (AUTO_REGISTER_GROUP), which does not exist; it is not registered`,
      );
      return null;
    }
    if (!p.ip) {
      this.options.log(
        'warn',
        `auto-registration: proxy ${info.id} sent no address (INSTANCE_IPS or node id); it is not registered`,
      );
      return null;
    }
    const template: WorkloadEntrySpec = wg.spec?.template ?? {};
    const spec: WorkloadEntrySpec = {
      ...template,
      address: p.ip,
      labels: { ...template.labels, ...p.labels },
    };
    // Istio writes the proxy's own locality over the template's (a VM knows where it runs).
    const locality = localityString(p.locality);
    if (locality) spec.locality = locality;
    return {
      apiVersion: 'networking.istio.io/v1',
      kind: 'WorkloadEntry',
      metadata: {
        name: entryName(group, p.ip),
        namespace: p.namespace,
        labels: { ...wg.spec?.metadata?.labels },
        annotations: {
          ...wg.spec?.metadata?.annotations,
          [AUTO_REGISTRATION_GROUP]: group,
          [WORKLOAD_CONTROLLER]: this.options.controller,
          [CONNECTED_AT]: new Date().toISOString(),
        },
        ownerReferences: [
          { apiVersion: wg.apiVersion, kind: 'WorkloadGroup', name: group, controller: true },
        ],
      },
      spec,
    };
  }
}

/**
 * The proxy lifecycle of a control plane that keeps no registrations (`--config` reads a folder,
 * `--kubernetes` writes no WorkloadEntries): a proxy asking for auto-registration is told, in the
 * server log once per proxy, that it is not registered and what to do, instead of nothing happening.
 */
export function autoRegistrationRefused(
  why: string,
  log: XdsLogger,
): { connected(info: ProxyInfo): void; disconnected(info: ProxyInfo): void } {
  const told = new Set<string>();
  return {
    connected(info) {
      const group = info.metadata.AUTO_REGISTER_GROUP;
      if (typeof group !== 'string' || group === '' || told.has(info.id)) return;
      if (told.size >= 10_000) told.clear();
      told.add(info.id);
      log(
        'warn',
        `auto-registration: proxy ${info.id} asks to join WorkloadGroup ${group} (AUTO_REGISTER_GROUP), but ${why}: no WorkloadEntry is written for it; run mizzen server --etcd, or apply a WorkloadEntry for the workload`,
      );
    },
    disconnected() {},
  };
}

/** Istio's name of an auto-registered entry: `<group>-<ip>` (IPv6 colons become dashes). */
function entryName(group: string, ip: string): string {
  return `${group}-${ip.replace(/:/g, '-')}`;
}
