// Coalesces bursts of push requests (Istio's debounce): fire after a quiet period, or after a
// maximum delay counted from the first request of the burst, whichever comes first.

/** Debounce settings, in milliseconds. */
export interface DebounceOptions {
  /** Fire once no request arrived for this long (Istio's PILOT_DEBOUNCE_AFTER, 100 ms). */
  quietMs: number;
  /** Fire at the latest this long after the first request of a burst (PILOT_DEBOUNCE_MAX, 1 s here). */
  maxDelayMs: number;
}

/** Merges requests of type T until the burst ends, then hands the merged value to `fire`. */
export class Debouncer<T> {
  private pending: T | undefined = undefined;
  private hasPending = false;
  private firstAt = 0;
  private count = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly options: DebounceOptions,
    private readonly merge: (earlier: T, later: T) => T,
    /** Called with the merged request, the time of the burst's first request (ms epoch) and the number merged. */
    private readonly fire: (merged: T, firstAt: number, count: number) => void,
  ) {}

  /** Adds a request to the current burst (starting one if none is pending). */
  request(item: T): void {
    const now = Date.now();
    if (!this.hasPending) {
      this.hasPending = true;
      this.pending = item;
      this.firstAt = now;
      this.count = 1;
    } else {
      this.pending = this.merge(this.pending as T, item);
      this.count++;
    }
    const untilMax = this.firstAt + this.options.maxDelayMs - now;
    const delay = Math.max(0, Math.min(this.options.quietMs, untilMax));
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), delay);
  }

  /** Fires the pending burst now, if any. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.hasPending) return;
    const pending = this.pending as T;
    this.hasPending = false;
    this.pending = undefined;
    this.fire(pending, this.firstAt, this.count);
  }

  /** Drops the pending burst without firing. */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.hasPending = false;
    this.pending = undefined;
  }
}
