// Label selection: does a set of labels satisfy a selector?

/** True when every key/value of `selector` is present in `labels` (an empty selector matches all). */
export function selects(
  selector: Readonly<Record<string, string>> | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (!selector) return true;
  for (const k in selector) if (labels[k] !== selector[k]) return false;
  return true;
}
