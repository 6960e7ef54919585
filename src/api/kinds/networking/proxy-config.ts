// ProxyConfig (networking.istio.io/v1beta1): per-workload proxy settings (worker threads, env, image).
import type { SpecResource } from '../../resource.js';
import type { MatchLabelsSelector } from './workload-selector.js';

/** ProxyConfig.spec. */
export interface ProxyConfigSpec {
  /** Workloads this applies to; absent = the whole namespace (or mesh in the root namespace). */
  selector?: MatchLabelsSelector;
  /** Proxy worker threads; 0 = one per CPU core; default 2. */
  concurrency?: number;
  /** Extra environment variables for the proxy. */
  environmentVariables?: Record<string, string>;
  /** Proxy image variant. */
  image?: ProxyImage;
}

/** A ProxyConfig resource. */
export type ProxyConfig = SpecResource<'ProxyConfig', ProxyConfigSpec>;

/** Proxy image variant. */
export interface ProxyImage {
  /** Image type: `default`, `debug` or `distroless`. */
  imageType?: string;
}
