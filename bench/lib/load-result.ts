// The result every load generator (wrk, h2load, the open-loop generator) reports, in the same units.

/** One load run against one target. */
export interface LoadResult {
  /** Which generator produced it, e.g. `wrk`, `h2load`, `open-loop`. */
  tool: string;
  /** Completed requests. */
  requests: number;
  /** Requests that failed: socket errors, timeouts or non-2xx statuses. */
  errors: number;
  /** Measured duration, seconds. */
  seconds: number;
  /** requests / seconds. */
  rps: number;
  /** Latency percentiles, milliseconds. */
  p50: number;
  p90: number;
  p99: number;
  /** Largest latency, milliseconds. */
  max: number;
}
