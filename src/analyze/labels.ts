// Label selection: does a set of labels satisfy an equality selector (`matchLabels`, Gateway selector).

/** True when every selector label is present in `labels` with the same value (empty selector = all). */
export function selects(
  selector: Readonly<Record<string, string>> | undefined,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector)) {
    if (!labels || labels[k] !== v) return false;
  }
  return true;
}

/** `a=1,b=2`: how Kubernetes prints an equality selector (keys sorted). */
export function selectorString(selector: Readonly<Record<string, string>> | undefined): string {
  if (!selector) return '';
  return Object.keys(selector)
    .sort()
    .map((k) => `${k}=${selector[k]}`)
    .join(',');
}

/** True for a selector with at least one label. */
export function nonEmpty(
  selector: Readonly<Record<string, string>> | undefined,
): selector is Record<string, string> {
  return !!selector && Object.keys(selector).length > 0;
}
