// Deployment (apps/v1): replicated pods from a template; `mizzen up` starts `replicas` instances.
import {
  obj,
  int,
  bool,
  enumOf,
  anyValue,
  record,
  fieldAt,
  child,
  type At,
  type Checker,
  type Validator,
} from '../../schema.js';
import { objectMeta } from '../../metadata.js';
import { kubeKind } from '../../kind-helpers.js';
import type { ObjectMeta, Resource } from '../../resource.js';
import { labelSelector, selectorMatches, type LabelSelector } from './object-reference.js';
import { podSpec, type PodSpec } from './pod.js';

/** The metadata of a pod template (name optional). */
export type PodTemplateMeta = Omit<ObjectMeta, 'name'> & { name?: string };

/** What each replica looks like. */
export interface PodTemplateSpec {
  metadata?: PodTemplateMeta;
  spec: PodSpec;
}

/** How old pods are replaced by new ones. */
export interface DeploymentStrategy {
  type?: 'RollingUpdate' | 'Recreate';
  rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string };
}

/** Deployment.spec. */
export interface DeploymentSpec {
  /** Number of pods; default 1. */
  replicas?: number;
  /** Must match template.metadata.labels. Filled from the template labels for old apiVersions. */
  selector: LabelSelector;
  template: PodTemplateSpec;
  strategy?: DeploymentStrategy;
  /** Seconds. */
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  /** Seconds. */
  progressDeadlineSeconds?: number;
  paused?: boolean;
}

/** A Deployment resource. */
export interface Deployment extends Resource {
  kind: 'Deployment';
  spec: DeploymentSpec;
  status?: Record<string, unknown>;
}

// ---------- validation ----------

const OLD_VERSIONS = {
  'extensions/v1beta1': 'removed in Kubernetes 1.16; use apps/v1',
  'apps/v1beta1': 'removed in Kubernetes 1.16; use apps/v1',
  'apps/v1beta2': 'removed in Kubernetes 1.16; use apps/v1',
};

/** Schema of a pod template (Deployment and other workload controllers). */
export const podTemplateSpec = (): Validator<PodTemplateSpec> =>
  obj<PodTemplateSpec>({
    metadata: objectMeta(),
    spec: { required: true, v: podSpec() },
  });

const strategy = (): Validator<DeploymentStrategy> =>
  obj<DeploymentStrategy>(
    {
      type: enumOf(['RollingUpdate', 'Recreate'] as const),
      rollingUpdate: obj({ maxSurge: anyValue(), maxUnavailable: anyValue() }),
    },
    {
      rules: (s, at, c) => {
        if (s.type === 'Recreate' && s.rollingUpdate)
          c.error(fieldAt(at, s, 'rollingUpdate'), 'may not be set when type is Recreate');
      },
    },
  );

/** Schema of Deployment.spec; the selector rule runs in the kind (old versions default it). */
const deploymentSpec = (): Validator<DeploymentSpec> =>
  obj<DeploymentSpec>({
    replicas: int(0, 2147483647),
    selector: labelSelector(),
    template: { required: true, v: podTemplateSpec() },
    strategy: strategy(),
    minReadySeconds: int(0, 2147483647),
    revisionHistoryLimit: int(0, 2147483647),
    progressDeadlineSeconds: int(1, 2147483647),
    paused: bool(),
  });

function checkSelector(apiVersion: unknown, s: DeploymentSpec, at: At, c: Checker): void {
  const tplLabels = s.template.metadata?.labels ?? {};
  if (!s.selector) {
    if (apiVersion === 'apps/v1') {
      c.error(
        fieldAt(at, s, 'selector'),
        'is required in apps/v1 (e.g. matchLabels equal to the template labels)',
      );
      return;
    }
    // extensions/v1beta1 and apps/v1beta1 defaulted the selector to the template labels.
    s.selector = { matchLabels: { ...tplLabels } };
  }
  const sel = s.selector;
  if (!Object.keys(sel.matchLabels ?? {}).length && !sel.matchExpressions?.length) {
    c.error(
      fieldAt(at, s, 'selector'),
      'must not be empty: a Deployment would select every pod in the namespace',
    );
    return;
  }
  if (!selectorMatches(sel, tplLabels))
    c.error(
      fieldAt(at, s, 'selector'),
      `does not match the template labels ${JSON.stringify(tplLabels)}: every matchLabels entry must appear in template.metadata.labels`,
    );
}

/** The Deployment kind: apps/v1, older apiVersions accepted with a warning. */
export const deploymentKind = kubeKind(
  'Deployment',
  ['apps/v1'],
  { spec: { required: true, v: deploymentSpec() }, status: record(anyValue()) },
  {
    deprecatedApiVersions: OLD_VERSIONS,
    rules: (out, at, c) => {
      const spec = out.spec as DeploymentSpec | undefined;
      if (spec) checkSelector(out.apiVersion, spec, child(at, out, 'spec'), c);
    },
  },
);
