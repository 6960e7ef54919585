// Limits how many responses are being generated and written at once across all ADS streams (Istio's
// PILOT_PUSH_THROTTLE), so a push to thousands of proxies does not buffer every response in memory at once.

/** A counting semaphore; waiters are served first come, first served. */
export class PushThrottle {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`push throttle must be ≥ 1, got ${limit}`);
  }

  /** Responses in progress now. */
  get inFlight(): number {
    return this.active;
  }

  /** Responses waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `work` once a slot is free, holding the slot until `work` settles. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
