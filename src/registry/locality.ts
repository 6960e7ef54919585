// Localities of workloads: Kubernetes topology labels, Istio's `istio-locality` label, `region/zone/subzone` strings.
import type { Locality } from './model.js';

/** The locality with no region, zone or subzone. */
export const NO_LOCALITY: Locality = Object.freeze({ region: '', zone: '', subZone: '' });

/** Parses `region/zone/subzone` (any part may be missing). */
export function parseLocality(s: string | undefined): Locality {
  if (!s) return NO_LOCALITY;
  const [region = '', zone = '', subZone = ''] = s.split('/');
  return { region, zone, subZone };
}

/**
 * The locality a set of labels declares: `istio-locality` (`region.zone.subzone`), else
 * `topology.kubernetes.io/region`, `topology.kubernetes.io/zone`, `topology.istio.io/subzone`
 * (and the deprecated failure-domain.beta.kubernetes.io labels).
 */
export function localityFromLabels(labels: Readonly<Record<string, string>> | undefined): Locality | null {
  if (!labels) return null;
  const il = labels['istio-locality'];
  if (il) {
    const [region = '', zone = '', subZone = ''] = il.split('.');
    return { region, zone, subZone };
  }
  const region =
    labels['topology.kubernetes.io/region'] ?? labels['failure-domain.beta.kubernetes.io/region'];
  const zone = labels['topology.kubernetes.io/zone'] ?? labels['failure-domain.beta.kubernetes.io/zone'];
  const subZone = labels['topology.istio.io/subzone'];
  if (!region && !zone && !subZone) return null;
  return { region: region ?? '', zone: zone ?? '', subZone: subZone ?? '' };
}

/**
 * A proxy's locality from its own labels (metadata LABELS), in Istio's order (pilot's
 * localityFromProxyLabels): `topology.kubernetes.io/region`, `topology.kubernetes.io/zone` and
 * `topology.istio.io/subzone` when any is set, else the `istio-locality` label (`region.zone.subzone`,
 * which istio-agent also puts into the node's locality); null when the labels say nothing.
 */
export function proxyLocalityFromLabels(labels: Readonly<Record<string, string>>): Locality | null {
  const region = labels['topology.kubernetes.io/region'];
  const zone = labels['topology.kubernetes.io/zone'];
  const subZone = labels['topology.istio.io/subzone'];
  if (region !== undefined || zone !== undefined || subZone !== undefined)
    return { region: region ?? '', zone: zone ?? '', subZone: subZone ?? '' };
  const il = labels['istio-locality'];
  return il ? parseLocality(il.replace(/\./g, '/')) : null;
}

/** `region/zone/subzone` as Istio prints a locality. */
export function localityString(l: Locality): string {
  return [l.region, l.zone, l.subZone].join('/').replace(/\/+$/, '');
}
