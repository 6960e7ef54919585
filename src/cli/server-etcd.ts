// `mizzen server --etcd`: the etcd config store plus WorkloadEntry auto-registration under this replica's lease.
import { UsageError } from './command.js';
import { EtcdStore } from '../config/etcd/etcd-store.js';
import { LeasedRegistrations } from '../config/etcd/leased-registrations.js';
import { WorkloadAutoRegistration } from '../pilot/auto-registration.js';
import type { LogLevel } from '../xds/logger.js';

/** The etcd store, with WorkloadEntry auto-registration under this replica's lease. */
export function etcdBackend(
  urls: string,
  prefix: string,
  name: string,
  gracePeriodMs: number,
  log: (level: LogLevel, m: string) => void,
) {
  const endpoints = urls
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  for (const u of endpoints)
    if (!/^https?:\/\/[^/]+\/?$/.test(u))
      throw new UsageError(`--etcd takes URLs like http://127.0.0.1:2379, got ${JSON.stringify(u)}`);
  const store = new EtcdStore({ endpoints, prefix });
  const registrations = new LeasedRegistrations(store.client, store.keys, { log: (l) => log('warn', l) });
  const autoRegistration = new WorkloadAutoRegistration({
    sink: registrations,
    snapshot: () => store.snapshot(),
    controller: name,
    gracePeriodMs,
    log,
  });
  return {
    store,
    lifecycle: autoRegistration,
    rootStore: store.caRoot(),
    close: () => {
      autoRegistration.close();
      registrations.close();
    },
  };
}
