// AdmissionReview v1 handling: sidecar injection (mutating, JSONPatch) and config validation (validating)
// with the config API's own checks, so `kubectl apply` of a bad VirtualService is refused with field and message.
import { loadText } from '../api/load.js';
import { kindByName } from '../api/kinds/registry.js';
import '../api/kinds/index.js';
import { injectPod, type InjectOptions } from './inject.js';
import type { PodTemplate } from './sidecar-template.js';

/** The parts of an AdmissionReview v1 request the webhooks read. */
export interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  operation?: string;
  namespace?: string;
  name?: string;
  object?: any;
}

/** An AdmissionReview v1 response body. */
export interface AdmissionReview {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: {
    uid: string;
    allowed: boolean;
    status?: { code: number; message: string };
    warnings?: string[];
    patchType?: 'JSONPatch';
    patch?: string;
  };
}

/** The request of a review body, or an error message saying what is wrong with it. */
export function admissionRequest(body: unknown): AdmissionRequest | string {
  const b = body as { apiVersion?: unknown; kind?: unknown; request?: AdmissionRequest };
  if (b?.kind !== 'AdmissionReview') return 'expected an AdmissionReview';
  if (b.apiVersion !== 'admission.k8s.io/v1')
    return `AdmissionReview ${String(b.apiVersion)} is not supported; configure the webhook with admissionReviewVersions: ["v1"]`;
  if (typeof b.request?.uid !== 'string') return 'the AdmissionReview has no request.uid';
  return b.request;
}

function review(uid: string, response: Omit<AdmissionReview['response'], 'uid'>): AdmissionReview {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, ...response } };
}

/**
 * Validates an Istio resource like `mizzen validate` does. Errors refuse it (Istio's webhook name and
 * wording: `configuration is invalid: …`), each with its field path; warnings are returned as warnings.
 */
export function validateAdmission(req: AdmissionRequest): AdmissionReview {
  if (req.operation === 'DELETE' || req.object == null) return review(req.uid, { allowed: true });
  const obj = req.object as { kind?: string; metadata?: { name?: string; namespace?: string } };
  if (!obj.kind || !kindByName(obj.kind))
    return review(req.uid, {
      allowed: true,
      warnings: [`Mizzen does not know kind ${String(obj.kind)}; it was not validated and Mizzen ignores it`],
    });
  const ns = obj.metadata?.namespace ?? req.namespace ?? 'default';
  const name = `${obj.kind} ${ns}/${obj.metadata?.name ?? req.name ?? ''}`;
  const r = loadText(JSON.stringify(obj), name, { defaultNamespace: ns });
  const line = (d: { path: string; message: string }): string => `${d.path ? `${d.path}: ` : ''}${d.message}`;
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  const warnings = r.diagnostics.filter((d) => d.severity === 'warning').map((d) => `${name}: ${line(d)}`);
  if (errors.length === 0)
    return review(req.uid, { allowed: true, ...(warnings.length ? { warnings } : {}) });
  return review(req.uid, {
    allowed: false,
    status: { code: 400, message: `configuration is invalid: ${name}: ${errors.map(line).join('; ')}` },
    ...(warnings.length ? { warnings } : {}),
  });
}

/**
 * Injects the sidecar into a Pod being created. The API server calls this only for pods its
 * MutatingWebhookConfiguration selects (namespaces labelled `istio-injection=enabled`, or pods
 * labelled `sidecar.istio.io/inject=true`); a pod that opts out, uses the host network or already
 * has a sidecar is admitted unchanged. Bad injection annotations refuse the pod with their field.
 */
export function injectAdmission(req: AdmissionRequest, options: InjectOptions): AdmissionReview {
  const pod = req.object as PodTemplate & { kind?: string };
  if (req.operation !== 'CREATE' || pod?.kind !== 'Pod') return review(req.uid, { allowed: true });
  const { result, problems } = injectPod(pod, workloadName(pod), options);
  const say = (p: { path: string[]; message: string }): string => `${formatPath(p.path)}: ${p.message}`;
  const warnings = problems.filter((p) => p.severity === 'warning').map(say);
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length)
    return review(req.uid, {
      allowed: false,
      status: { code: 400, message: `sidecar injection failed: ${errors.map(say).join('; ')}` },
      ...(warnings.length ? { warnings } : {}),
    });
  if (!result.injected) return review(req.uid, { allowed: true, ...(warnings.length ? { warnings } : {}) });
  const t = result.template;
  // JSON Patch `add` replaces a member that exists, so one op per changed part is enough.
  const patch = [
    { op: 'add', path: '/metadata/labels', value: t.metadata?.labels ?? {} },
    { op: 'add', path: '/metadata/annotations', value: t.metadata?.annotations ?? {} },
    { op: 'add', path: '/spec/initContainers', value: t.spec?.initContainers ?? [] },
    { op: 'add', path: '/spec/containers', value: t.spec?.containers ?? [] },
    { op: 'add', path: '/spec/volumes', value: t.spec?.volumes ?? [] },
  ];
  return review(req.uid, {
    allowed: true,
    patchType: 'JSONPatch',
    patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
    ...(warnings.length ? { warnings } : {}),
  });
}

/** The workload a pod belongs to: its name, else its generateName without the ReplicaSet's pod-template-hash. */
function workloadName(pod: PodTemplate): string {
  const meta = pod.metadata ?? {};
  if (typeof meta.name === 'string' && meta.name) return meta.name;
  let gen = String(meta.generateName ?? 'pod').replace(/-$/, '');
  const hash = meta.labels?.['pod-template-hash'];
  if (hash && gen.endsWith(`-${hash}`)) gen = gen.slice(0, -hash.length - 1);
  return gen;
}

function formatPath(path: string[]): string {
  return path
    .map((k, i) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? (i ? `.${k}` : k) : `[${JSON.stringify(k)}]`))
    .join('');
}
