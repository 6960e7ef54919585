// Sidecar injection of workload manifests (`mizzen kube-inject`, and the mutating webhook for one pod):
// finds each pod template, decides whether to inject, and reports problems with file, line and field.
import { LineCounter, parseAllDocuments, stringify, type Document } from 'yaml';
import type { Diagnostic } from '../api/diagnostic.js';
import { INJECT_KEY, injectionSettings } from './injection-settings.js';
import {
  injectedTemplate,
  PROXY_CONTAINER,
  type InjectOptions,
  type PodTemplate,
} from './sidecar-template.js';

export type { InjectOptions } from './sidecar-template.js';

/** Where each workload kind keeps its pod template. */
const TEMPLATE_PATHS: Record<string, readonly string[]> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** What injecting one pod template did. */
export type PodInjection =
  | { readonly injected: true; readonly template: PodTemplate }
  | { readonly injected: false; readonly reason: string };

/** A problem with a template, relative to the template (`metadata.annotations["…"]`). */
export interface TemplateProblem {
  readonly severity: 'error' | 'warning';
  /** Path from the pod template, e.g. `metadata.annotations["sidecar.istio.io/proxyCPU"]`. */
  readonly path: string[];
  readonly message: string;
}

/**
 * Injects one pod template unless it opts out (`sidecar.istio.io/inject: "false"` as label or
 * annotation; a label wins), uses the host network, or already has a sidecar. `force` false (the
 * webhook) also needs an opt-in when the namespace is not labelled, which the caller decides.
 */
export function injectPod(
  tmpl: PodTemplate,
  workloadName: string,
  options: InjectOptions,
): { result: PodInjection; problems: TemplateProblem[] } {
  const meta = tmpl.metadata ?? {};
  const optOut = meta.labels?.[INJECT_KEY] ?? meta.annotations?.[INJECT_KEY];
  if (optOut === 'false')
    return { result: { injected: false, reason: `${INJECT_KEY} is "false"` }, problems: [] };
  if (tmpl.spec?.hostNetwork === true)
    return {
      result: { injected: false, reason: 'the pod uses the host network (Istio does not inject those)' },
      problems: [],
    };
  if (
    (tmpl.spec?.containers ?? []).some((c: any) => c?.name === PROXY_CONTAINER) ||
    meta.annotations?.['sidecar.istio.io/status']
  )
    return { result: { injected: false, reason: 'it already has a sidecar' }, problems: [] };
  const { settings, problems } = injectionSettings(meta.annotations ?? {});
  const out: TemplateProblem[] = problems.map((p) => ({
    severity: p.severity,
    path: ['metadata', 'annotations', p.key],
    message: `${p.key} ${p.message}`,
  }));
  if (settings.holdApplicationUntilProxyStarts && settings.statusPort === 0)
    out.push({
      severity: 'error',
      path: ['metadata', 'annotations', 'status.sidecar.istio.io/port'],
      message: 'holdApplicationUntilProxyStarts needs the status port (it waits on /healthz/ready); it is 0',
    });
  if (out.some((p) => p.severity === 'error'))
    return { result: { injected: false, reason: 'its annotations have errors' }, problems: out };
  return {
    result: { injected: true, template: injectedTemplate(tmpl, workloadName, settings, options) },
    problems: out,
  };
}

/** The output of {@link injectManifests}. */
export interface InjectOutput {
  /** The manifests with sidecars injected (YAML stream), or null when an error stopped it. */
  readonly text: string | null;
  readonly diagnostics: Diagnostic[];
  /** `Kind name` of every injected workload, and of every skipped one with why. */
  readonly injected: string[];
  readonly skipped: string[];
}

/** Injects every workload of a YAML stream (Lists included); other documents pass through unchanged. */
export function injectManifests(text: string, file: string, options: InjectOptions): InjectOutput {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines });
  const diagnostics: Diagnostic[] = [];
  const injected: string[] = [];
  const skipped: string[] = [];
  const out: string[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    for (const e of doc.errors) {
      const p = lines.linePos(e.pos[0]);
      diagnostics.push({ severity: 'error', file, line: p.line, col: p.col, path: '', message: e.message });
    }
    if (doc.errors.length) continue;
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const position = (path: (string | number)[]): { line: number; col: number } => {
      const node = nodeAt(doc, path);
      return node ? lines.linePos(node) : { line: 1, col: 1 };
    };
    const result = injectObject(
      value,
      [],
      options,
      (severity, path, message) => {
        const p = position(path);
        diagnostics.push({ severity, file, line: p.line, col: p.col, path: formatPath(path), message });
      },
      injected,
      skipped,
    );
    out.push(stringify(result, { lineWidth: 0 }));
  }
  const failed = diagnostics.some((d) => d.severity === 'error');
  return { text: failed ? null : out.join('---\n'), diagnostics, injected, skipped };
}

type Report = (severity: 'error' | 'warning', path: (string | number)[], message: string) => void;

function injectObject(
  value: any,
  at: (string | number)[],
  options: InjectOptions,
  report: Report,
  injected: string[],
  skipped: string[],
): unknown {
  if (value?.kind === 'List' && Array.isArray(value.items))
    return {
      ...value,
      items: value.items.map((item: unknown, i: number) =>
        injectObject(item, [...at, 'items', i], options, report, injected, skipped),
      ),
    };
  const path = TEMPLATE_PATHS[value?.kind];
  if (!path) return value;
  const name = `${value.kind} ${value.metadata?.name ?? value.metadata?.generateName ?? '?'}`;
  const tmpl = path.reduce((v: any, k) => v?.[k], value) as PodTemplate | undefined;
  if (!tmpl || typeof tmpl !== 'object') {
    report('error', [...at, ...path], `${name} has no pod template at ${path.join('.')}`);
    return value;
  }
  const workload = String(
    value.metadata?.name ?? value.metadata?.generateName ?? tmpl.metadata?.name ?? 'unknown',
  );
  const { result, problems } = injectPod(tmpl, workload, options);
  for (const p of problems) report(p.severity, [...at, ...path, ...p.path], p.message);
  if (!result.injected) {
    skipped.push(`${name}: ${result.reason}`);
    return value;
  }
  injected.push(name);
  return setAt(value, path, result.template);
}

/** `obj` with the value at `path` replaced (copies along the path). */
function setAt(obj: any, path: readonly string[], v: unknown): unknown {
  if (path.length === 0) return v;
  return { ...obj, [path[0]]: setAt(obj[path[0]], path.slice(1), v) };
}

/** The source offset of the node at `path` (its key when it is a map entry), or null. */
function nodeAt(doc: Document, path: (string | number)[]): number | null {
  for (let n = path.length; n > 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node?.range) return node.range[0];
  }
  return null;
}

function formatPath(path: (string | number)[]): string {
  let s = '';
  for (const k of path) {
    if (typeof k === 'number') s += `[${k}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) s += s ? `.${k}` : k;
    else s += `[${JSON.stringify(k)}]`;
  }
  return s;
}
