// A padlock drawn as SVG (no emoji font needed), marking mutual-TLS edges.

/** The mTLS lock, with its meaning as the accessible name. */
export function Lock() {
  return (
    <svg class="lock" role="img" aria-label="mutual TLS" width="12" height="14" viewBox="0 0 12 14">
      <title>mutual TLS</title>
      <path d="M3 6V4a3 3 0 0 1 6 0v2" fill="none" stroke="currentColor" stroke-width="1.6" />
      <rect x="1" y="6" width="10" height="7.5" rx="1.5" fill="currentColor" />
    </svg>
  );
}
