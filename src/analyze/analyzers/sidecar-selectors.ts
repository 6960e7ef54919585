// sidecar.SelectorAnalyzer: Sidecar selectors match workloads, and each workload gets exactly one Sidecar.
import type { Resource } from '../../api/resource.js';
import { field, type Analyzer } from '../analyzer.js';
import { nonEmpty, selectorString } from '../labels.js';
import { MESSAGES } from '../messages.js';
import type { SidecarSpec } from '../../api/kinds/networking/sidecar.js';

/**
 * A Sidecar whose workloadSelector matches no workload in its namespace (IST0101), a workload selected
 * by several Sidecars (IST0110), several selector-less Sidecars in one namespace (IST0111).
 */
export const sidecarSelectorAnalyzer: Analyzer = {
  name: 'sidecar.SelectorAnalyzer',
  description: 'Checks that Sidecar selectors match workloads and do not overlap',
  analyze(ctx) {
    const byWorkload = new Map<string, Resource[]>();
    const nsWide = new Map<string, Resource[]>();
    for (const r of ctx.index.ofKind('Sidecar')) {
      const spec = (r.spec ?? {}) as SidecarSpec;
      const ns = r.metadata.namespace ?? 'default';
      const labels = spec.workloadSelector?.labels;
      if (!nonEmpty(labels)) {
        nsWide.set(ns, [...(nsWide.get(ns) ?? []), r]);
        continue;
      }
      if (!ctx.index.hasWorkloads) continue;
      const selected = ctx.index.workloadsSelected(labels, ns);
      if (selected.length === 0) {
        ctx.report(
          MESSAGES.ReferencedResourceNotFound,
          r,
          field(spec.workloadSelector, 'labels', 'spec.workloadSelector.labels'),
          `Referenced selector not found: ${JSON.stringify(selectorString(labels))}; no workload in namespace ${ns} has these labels`,
        );
      }
      for (const w of selected) {
        const k = `${w.namespace}/${w.name}`;
        byWorkload.set(k, [...(byWorkload.get(k) ?? []), r]);
      }
    }
    for (const [workload, sidecars] of byWorkload) {
      if (sidecars.length < 2) continue;
      const names = sidecars.map((s) => s.metadata.name).sort();
      const ns = workload.slice(0, workload.indexOf('/'));
      for (const s of sidecars) {
        const spec = (s.spec ?? {}) as SidecarSpec;
        ctx.report(
          MESSAGES.ConflictingSidecarWorkloadSelectors,
          s,
          field(spec.workloadSelector, 'labels', 'spec.workloadSelector.labels'),
          `The Sidecars [${names.join(' ')}] in namespace "${ns}" select the same workload pod "${workload.slice(ns.length + 1)}", which can lead to undefined behavior.`,
        );
      }
    }
    for (const [ns, sidecars] of nsWide) {
      if (sidecars.length < 2) continue;
      const names = sidecars.map((s) => s.metadata.name).sort();
      for (const s of sidecars) {
        ctx.report(
          MESSAGES.MultipleSidecarsWithoutWorkloadSelectors,
          s,
          field(s.metadata, 'name', 'metadata.name'),
          `The Sidecars [${names.join(' ')}] in namespace "${ns}" have no workload selector, which can lead to undefined behavior.`,
        );
      }
    }
  },
};
