// Preloaded into the proxy by the soak (`node --import …/loop-probe.js`): records the proxy's own event-loop
// delay (perf_hooks.monitorEventLoopDelay) and GC pauses, and appends one JSON line per 10 s window to the file
// named by MIZZEN_LOOP_PROBE_FILE. SIGUSR2 restarts the since-reset figures (the soak sends it after the warm-up).
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';

/** One line of the probe file. */
export interface ProbeLine {
  /** ms since the probe started. */
  t: number;
  /** This window's event-loop delay, ms. */
  loop: { p50: number; p99: number; max: number };
  /** Since the last SIGUSR2 (or start), ms. */
  sinceReset: {
    p50: number;
    p90: number;
    p99: number;
    p999: number;
    max: number;
    gcMax: number;
    gcTotal: number;
    gcCount: number;
  };
  /** This window's GC pauses: count, total and longest, ms. */
  gc: { count: number; total: number; max: number };
}

const file = process.env.MIZZEN_LOOP_PROBE_FILE;
if (file) {
  const t0 = performance.now();
  const window: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  const total: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  window.enable();
  total.enable();
  const gcWin = { count: 0, total: 0, max: 0 };
  const gcAll = { count: 0, total: 0, max: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      for (const g of [gcWin, gcAll]) {
        g.count++;
        g.total += e.duration;
        g.max = Math.max(g.max, e.duration);
      }
    }
  }).observe({ entryTypes: ['gc'] });
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
  const flush = (): void => {
    const line: ProbeLine = {
      t: Math.round(performance.now() - t0),
      loop: { p50: ms(window.percentile(50)), p99: ms(window.percentile(99)), max: ms(window.max) },
      sinceReset: {
        p50: ms(total.percentile(50)),
        p90: ms(total.percentile(90)),
        p99: ms(total.percentile(99)),
        p999: ms(total.percentile(99.9)),
        max: ms(total.max),
        gcMax: Math.round(gcAll.max * 100) / 100,
        gcTotal: Math.round(gcAll.total),
        gcCount: gcAll.count,
      },
      gc: {
        count: gcWin.count,
        total: Math.round(gcWin.total * 100) / 100,
        max: Math.round(gcWin.max * 100) / 100,
      },
    };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
    window.reset();
    gcWin.count = gcWin.total = gcWin.max = 0;
  };
  setInterval(flush, 10_000).unref();
  process.on('SIGUSR2', () => {
    flush();
    total.reset();
    gcAll.count = gcAll.total = gcAll.max = 0;
  });
}
