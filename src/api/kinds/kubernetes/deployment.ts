// Deployment (apps/v1): replicated pods from a template; `mizzen up` starts `replicas` instances.
import type { Resource } from '../../resource.js';
import type { LabelSelector } from './object-reference.js';
import type { PodSpec } from './pod.js';

/** The metadata of a pod template. */
export interface PodTemplateMeta {
  name?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

/** What each replica looks like. */
export interface PodTemplateSpec {
  metadata?: PodTemplateMeta;
  spec: PodSpec;
}

/** Deployment.spec. */
export interface DeploymentSpec {
  /** Number of pods; default 1. */
  replicas?: number;
  /** Must match template.metadata.labels. */
  selector: LabelSelector;
  template: PodTemplateSpec;
  strategy?: { type?: 'RollingUpdate' | 'Recreate'; rollingUpdate?: Record<string, unknown> };
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
