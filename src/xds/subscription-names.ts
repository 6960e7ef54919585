// Subscribed resource names, shared between streams: in an unscoped mesh 2000 proxies subscribe to the same
// 3000 EDS names, and each kept its own sorted array and Set of them (a third of the server's heap per proxy).
// Equal lists are now one frozen array and one Set, which also lets the generator and the encoder hand every
// such proxy the same output objects (memoized per list).
import { createHash } from 'node:crypto';

/** A sorted, duplicate-free list of names and its Set; never mutated. */
export interface SubscriptionNames {
  readonly list: readonly string[];
  readonly set: ReadonlySet<string>;
}

const byDigest = new Map<string, WeakRef<SubscriptionNames>>();
const forget = new FinalizationRegistry<string>((digest) => {
  if (byDigest.get(digest)?.deref() === undefined) byDigest.delete(digest);
});

/** The empty subscription (also the wildcard's explicit names). */
export const NO_NAMES: SubscriptionNames = Object.freeze({ list: Object.freeze([]), set: new Set<string>() });

/** The shared {@link SubscriptionNames} with these names (sorted and deduplicated here). */
export function subscriptionNames(names: Iterable<string>): SubscriptionNames {
  const list = [...new Set(names)].sort();
  if (list.length === 0) return NO_NAMES;
  const digest = createHash('sha256').update(list.join('\n')).digest('base64');
  const known = byDigest.get(digest)?.deref();
  if (known && sameList(known.list, list)) return known;
  const fresh: SubscriptionNames = Object.freeze({ list: Object.freeze(list), set: new Set(list) });
  if (!known) {
    byDigest.set(digest, new WeakRef(fresh));
    forget.register(fresh, digest);
  }
  return fresh;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
