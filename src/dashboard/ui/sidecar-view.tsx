// A workload's sidecars as `mizzen proxy-config` and `mizzen logs POD -c istio-proxy` show them: listeners,
// routes, clusters, certificates and the last access-log lines, per pod (from /api/workload).
import { usePoll } from './api.js';

/** One pod's sidecar as /api/workload answers it. */
interface PodSidecar {
  readonly pod: string;
  readonly namespace: string;
  readonly listeners?: string[][];
  readonly routes?: string[][];
  readonly clusters?: string[][];
  readonly secrets?: string[][];
  readonly chains?: string;
  readonly error?: string;
  readonly accessLog: string[];
}

/** The answer of /api/workload. */
interface WorkloadAnswer {
  readonly workload: string;
  readonly headers: Readonly<Record<'listeners' | 'routes' | 'clusters' | 'secrets', string[]>>;
  readonly pods: PodSidecar[];
}

/** Access-log lines shown per pod. */
const LINES = 20;

function Table({
  caption,
  head,
  rows,
  open,
}: {
  caption: string;
  head: string[];
  rows: string[][];
  open?: boolean;
}) {
  return (
    <details class={`pc ${caption.toLowerCase()}`} open={open}>
      <summary>
        {caption} ({rows.length})
      </summary>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              {head.map((h) => (
                <th key={h} scope="col">
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>
                {r.map((c, j) => (
                  <td key={j}>{c}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

/** The sidecars of workload `name` in `namespace`. */
export function SidecarView({ name, namespace }: { name: string; namespace: string }) {
  const q = new URLSearchParams({ name, namespace, lines: String(LINES) });
  const w = usePoll<WorkloadAnswer>(`/api/workload?${q.toString()}`, 5000);
  if (!w.data) return <p class="status">{w.error ?? 'reading its sidecars…'}</p>;
  const h = w.data.headers;
  return (
    <>
      {w.data.pods.map((p) => (
        <section key={p.pod} class="sidecar" data-pod={p.pod} aria-label={`sidecar of ${p.pod}`}>
          <h4>
            Sidecar of {p.pod}.{p.namespace}
          </h4>
          {p.error ? <p class="nack">{p.error}</p> : null}
          {p.listeners ? <Table caption="Listeners" head={h.listeners} rows={p.listeners} /> : null}
          {p.routes ? <Table caption="Routes" head={h.routes} rows={p.routes} /> : null}
          {p.clusters ? <Table caption="Clusters" head={h.clusters} rows={p.clusters} /> : null}
          {p.secrets ? <Table caption="Certificates" head={h.secrets} rows={p.secrets} open /> : null}
          {p.chains ? (
            <details class="pc chains" open>
              <summary>Certificate chains</summary>
              <pre tabIndex={0}>{p.chains}</pre>
            </details>
          ) : null}
          <details class="pc access-log" open>
            <summary>Access log (last {LINES} lines)</summary>
            <pre tabIndex={0}>{p.accessLog.length ? p.accessLog.join('\n') : 'no access-log lines yet'}</pre>
          </details>
        </section>
      ))}
    </>
  );
}
