// Destinations and weighted route destinations shared by HTTP, TLS and TCP routes (and Sidecar egressProxy).
import { obj, str, int, nonEmpty, list, type At, type Checker, type Validator } from '../../schema.js';
import { checkPort } from '../../checks.js';
import { checkWildcardDomain, isDns1123Label } from './hosts.js';
import { headers } from './headers.js';
import type { Destination, HTTPRouteDestination, PortSelector, RouteDestination } from './virtual-service.js';

/** A port selector `{number}` with number 1–65535. */
export const portSelector = (): Validator<PortSelector> =>
  obj<PortSelector>({ number: { v: int(0, 4294967295, checkPort), required: true } });

/** Reports unless `name` is a subset name (DNS-1123 label). */
export function checkSubsetName(name: string, at: At, c: Checker): void {
  if (name === '') c.error(at, 'subset name cannot be empty');
  else if (!isDns1123Label(name))
    c.error(
      at,
      `subset name ${JSON.stringify(name)} is invalid: expected a lower-case DNS label (letters, digits, "-")`,
    );
}

/** A destination: a service host (not `*`), an optional subset and port. */
export const destination = (): Validator<Destination> =>
  obj<Destination>({
    host: {
      v: nonEmpty((h, at, c) => {
        if (h === '*') c.error(at, 'invalid destination host "*": name a service');
        else checkWildcardDomain(h, at, c);
      }),
      required: true,
    },
    subset: str(checkSubsetName),
    port: portSelector(),
  });

/** Weight: an integer 0–100, as Istio's reference documents it (relative to the other destinations' weights). */
const weight = (): Validator<number> => int(0, 100);

/** Reports when several destinations all have weight 0 (or none). */
function checkTotalWeight(ds: readonly { weight?: number }[], at: At, c: Checker): void {
  if (ds.length > 1 && ds.reduce((s, d) => s + (d.weight ?? 0), 0) === 0)
    c.error(at, 'total destination weight is 0: give the destinations weights (e.g. 80 and 20)');
}

/** The `route` list of an HTTP rule. */
export const httpRouteDestinations = (): Validator<HTTPRouteDestination[]> => {
  const item = obj<HTTPRouteDestination>({
    destination: { v: destination(), required: true },
    weight: weight(),
    headers: headers(),
  });
  const l = list(item);
  return (v, at, c) => {
    const mark = c.diagnostics.length;
    const r = l(v, at, c);
    // Bad weights were dropped from r; only judge the total when every weight parsed.
    if (r && !c.failedSince(mark)) checkTotalWeight(r, at, c);
    return r;
  };
};

/** The `route` list of a TLS or TCP rule. */
export const routeDestinations = (): Validator<RouteDestination[]> => {
  const item = obj<RouteDestination>({ destination: { v: destination(), required: true }, weight: weight() });
  const l = list(item);
  return (v, at, c) => {
    const mark = c.diagnostics.length;
    const r = l(v, at, c);
    // Bad weights were dropped from r; only judge the total when every weight parsed.
    if (r && !c.failedSince(mark)) checkTotalWeight(r, at, c);
    return r;
  };
};
