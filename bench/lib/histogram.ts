// A log-linear latency histogram in microseconds (HdrHistogram's bucket layout, < 1.6 % relative error).

const LINEAR = 128; // values below this are exact
const SUB = 64; // sub-buckets per power of two above LINEAR
const MAX_EXP = 31;
const SIZE = LINEAR + (MAX_EXP - 7 + 1) * SUB;

/** Counts of latencies in µs; record is O(1) and allocation-free. */
export class LatencyHistogram {
  private readonly counts = new Float64Array(SIZE);
  /** Values recorded. */
  count = 0;
  /** Largest value recorded, µs. */
  max = 0;
  private sum = 0;

  /** Adds one latency, µs (clamped to [0, 2^31)). */
  record(us: number): void {
    const v = Math.min(Math.max(0, Math.round(us)), 2 ** MAX_EXP - 1);
    this.counts[bucketOf(v)] += 1;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  /** Adds every count of another histogram. */
  merge(other: LatencyHistogram): void {
    for (let i = 0; i < SIZE; i++) this.counts[i] += other.counts[i];
    this.count += other.count;
    this.sum += other.sum;
    this.max = Math.max(this.max, other.max);
  }

  /** Mean, µs. */
  mean(): number {
    return this.count ? this.sum / this.count : 0;
  }

  /** The value at percentile p (0–100), µs (the middle of its bucket). */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(bucketMiddle(i), this.max);
    }
    return this.max;
  }
}

function bucketOf(v: number): number {
  if (v < LINEAR) return v;
  const e = 31 - Math.clz32(v); // 2^e <= v < 2^(e+1), e >= 7
  return LINEAR + (e - 7) * SUB + ((v >>> (e - 6)) - SUB);
}

function bucketMiddle(i: number): number {
  if (i < LINEAR) return i;
  const e = 7 + Math.floor((i - LINEAR) / SUB);
  const sub = (i - LINEAR) % SUB;
  const width = 2 ** (e - 6);
  return (SUB + sub) * width + width / 2;
}
