// Limits how many responses are being generated and written at once across all ADS streams (Istio's
// PILOT_PUSH_THROTTLE), so a push to thousands of proxies does not buffer every response in memory at once.
// A response a client asked for (its first request for a type, a new subscription such as the EDS names of
// clusters it just received) waits only for a free slot, not behind the push queue: istiod answers such
// requests on the stream and throttles only its pushes. At 2000 proxies a new service needs CDS, then the
// client's EDS request, then its routes; queued behind the rest of the push, each round trip waited for
// the whole push to drain.

/** A counting semaphore; requested responses first, then pushes, each first come, first served. */
export class PushThrottle {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly requested: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`push throttle must be ≥ 1, got ${limit}`);
  }

  /** Responses in progress now. */
  get inFlight(): number {
    return this.active;
  }

  /** Responses waiting for a slot. */
  get queued(): number {
    return this.waiting.length + this.requested.length;
  }

  /**
   * Runs `work` once a slot is free, holding the slot until `work` settles. `requested`: a client asked
   * for this response; it goes ahead of queued pushes.
   */
  async run<T>(work: () => Promise<T>, requested = false): Promise<T> {
    if (this.active >= this.limit)
      await new Promise<void>((resolve) => (requested ? this.requested : this.waiting).push(resolve));
    else this.active++;
    try {
      return await work();
    } finally {
      const next = this.requested.shift() ?? this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
