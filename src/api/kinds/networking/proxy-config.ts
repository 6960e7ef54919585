// ProxyConfig (networking.istio.io/v1beta1): per-workload proxy settings (worker threads, env, image).
import { obj, str, int, record, child, type Validator } from '../../schema.js';
import { istioKind } from '../../kind-helpers.js';
import type { SpecResource } from '../../resource.js';
import { checkSelectorLabels } from './common.js';
import { matchLabelsSelector, type MatchLabelsSelector } from './workload-selector.js';

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
  /** Image type suffix: `default`, `debug`, `distroless`, or another type published to the hub. */
  imageType?: string;
}

// ---------- schema ----------

/** Schema of ProxyConfig.spec. */
export const proxyConfigSpec = (): Validator<ProxyConfigSpec> =>
  obj<ProxyConfigSpec>(
    {
      selector: matchLabelsSelector(),
      concurrency: int(0, 2147483647),
      environmentVariables: record(str(), (k, at, c) => {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
          c.error(at, `invalid environment variable name ${JSON.stringify(k)}`);
      }),
      image: obj<ProxyImage>({ imageType: str() }),
    },
    {
      rules: (s, at, c) => {
        if (s.selector)
          checkSelectorLabels(s.selector.matchLabels, child(at, s, 'selector'), 'matchLabels', c);
      },
    },
  );

/** The ProxyConfig kind (networking.istio.io/v1beta1 only). */
export const proxyConfigKind = istioKind('ProxyConfig', ['networking.istio.io/v1beta1'], proxyConfigSpec());
