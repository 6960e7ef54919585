// Serves /debug/config_health: gathers store status, analyzer findings and per-proxy reach, caching the
// expensive parts by config version (the dashboard polls every few seconds).
import { analyzeResources } from '../../analyze/analyze.js';
import type { Diagnostic } from '../../api/diagnostic.js';
import type { ConfigStore } from '../../config/store.js';
import type { AdsServer } from '../../xds/ads-server.js';
import type { Generator } from '../generator.js';
import type { PushContext } from '../push-context.js';
import { configHealth, type ConfigHealth } from './config-health.js';
import { reachedResources } from './reach.js';

/** What the health view reads. */
export interface HealthSources {
  readonly store: ConfigStore;
  readonly ads: AdsServer;
  readonly generator: Generator;
  readonly push: () => PushContext;
}

/** Computes the config-health view, recomputing analysis and reach only when the config changed. */
export class HealthSource {
  private analysisVersion = -1;
  private analysis: Diagnostic[] = [];
  private reachPush: PushContext | null = null;
  private readonly reach = new Map<string, ReadonlySet<string>>();

  constructor(private readonly src: HealthSources) {}

  /** The current view. */
  health(): ConfigHealth {
    const snap = this.src.store.snapshot();
    if (snap.version !== this.analysisVersion) {
      this.analysis = analyzeResources(snap.resources);
      this.analysisVersion = snap.version;
    }
    const push = this.src.push();
    if (push !== this.reachPush) {
      this.reach.clear();
      this.reachPush = push;
    }
    const proxies = this.src.ads.syncStatus();
    const live = new Map<string, ReadonlySet<string>>();
    for (const ref of this.src.ads.proxies()) {
      let r = this.reach.get(ref.id);
      if (!r) this.reach.set(ref.id, (r = reachedResources(this.src.generator, ref)));
      live.set(ref.id, r);
    }
    return configHealth({
      version: push.version,
      status: this.src.store.status(),
      analysis: this.analysis,
      proxies,
      reach: live,
    });
  }
}
