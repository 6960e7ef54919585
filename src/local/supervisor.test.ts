// The supervisor with real child processes: restarts with backoff (fake and real clocks), counted
// restarts, log files, and stops that leave no process of the group behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from './backoff.js';
import { SupervisedProcess, Supervisor, type ProcessState } from './supervisor.js';
import { isAlive } from './run-state.js';
import { waitUntil } from './readiness.js';

/** A clock whose time moves only when the test says so. */
class FakeClock implements Clock {
  t = 1_000_000;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private next = 1;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== h);
  }
  advance(ms: number): void {
    this.t += ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= this.t).sort((a, b) => a.at - b.at)[0];
      if (!due) return;
      this.timers = this.timers.filter((x) => x !== due);
      due.fn();
    }
  }
}

const node = process.execPath;

function waitState(p: SupervisedProcess, s: ProcessState, ms = 10_000): Promise<boolean> {
  return waitUntil(() => p.status().state === s, ms, 10);
}

test('a crashing child restarts after 1 s, then 2 s, on the backoff clock; restarts are counted', async () => {
  const clock = new FakeClock();
  const p = new SupervisedProcess({ name: 'crasher', argv: [node, '-e', 'process.exit(3)'] }, { clock });
  p.start();
  assert.ok(await waitState(p, 'backoff'));
  assert.equal(p.status().lastExit?.code, 3);
  assert.equal(p.status().restarts, 0);
  assert.equal(p.status().nextRestartAt, clock.now() + 1000);
  clock.advance(999);
  assert.equal(p.status().state, 'backoff');
  clock.advance(1);
  assert.equal(p.status().restarts, 1);
  assert.ok(await waitState(p, 'backoff'));
  assert.equal(p.status().nextRestartAt, clock.now() + 2000, 'second delay doubles');
  clock.advance(2000);
  assert.ok(await waitState(p, 'backoff'));
  assert.equal(p.status().restarts, 2);
  assert.equal(p.status().nextRestartAt, clock.now() + 4000);
  await p.stop();
  assert.equal(p.status().state, 'stopped');
  clock.advance(10_000);
  assert.equal(p.status().state, 'stopped', 'no restart after stop');
});

test('a child that ran 60 s before crashing restarts after 1 s again', async () => {
  const clock = new FakeClock();
  const dir = mkdtempSync(join(tmpdir(), 'mz-sup-'));
  const flag = join(dir, 'crash-fast');
  // Crashes at once while the flag file is absent... then stays up until killed.
  const script = `require('fs').existsSync(${JSON.stringify(flag)}) ? setInterval(()=>{}, 1000) : process.exit(1)`;
  const p = new SupervisedProcess({ name: 'flaky', argv: [node, '-e', script] }, { clock });
  try {
    p.start();
    assert.ok(await waitState(p, 'backoff'));
    clock.advance(1000);
    assert.ok(await waitState(p, 'backoff'));
    assert.equal(p.status().nextRestartAt, clock.now() + 2000);
    (await import('node:fs')).writeFileSync(flag, '');
    clock.advance(2000);
    assert.ok(await waitState(p, 'running'));
    clock.advance(61_000);
    process.kill(p.status().pid!, 'SIGKILL');
    assert.ok(await waitState(p, 'backoff'));
    assert.equal(p.status().lastExit?.signal, 'SIGKILL');
    assert.equal(p.status().nextRestartAt, clock.now() + 1000, 'reset after 60 s up');
  } finally {
    await p.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with the real clock a crashing child is restarted again and again; output is logged per line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mz-sup-'));
  const lines: string[] = [];
  const sup = new Supervisor({
    backoff: { initialMs: 50, maxMs: 100 },
    onLine: (name, line) => lines.push(`${name}|${line}`),
  });
  try {
    const p = sup.add({
      name: 'app',
      argv: [node, '-e', 'console.log("hello"); console.error("oops"); process.exit(2)'],
      logFile: join(dir, 'app.log'),
    });
    assert.ok(await waitUntil(() => p.status().restarts >= 3, 10_000, 20));
    await sup.stopAll();
    assert.ok(lines.filter((l) => l === 'app|hello').length >= 3);
    assert.ok(lines.includes('app|oops'));
    const log = readFileSync(join(dir, 'app.log'), 'utf8');
    assert.match(log, /^hello$/m);
    assert.match(log, /\[mizzen\] exited with code 2; restarting in 50ms \(restart 1\)/);
  } finally {
    await sup.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stop kills the whole process group, SIGKILL after the grace period for what ignores SIGTERM', async () => {
  const lines: string[] = [];
  // The real clock, recording the timers armed: the SIGKILL timer must be the grace period.
  const armed: number[] = [];
  const clock: Clock = {
    ...systemClock,
    setTimeout: (fn, ms) => {
      armed.push(ms);
      return systemClock.setTimeout(fn, ms);
    },
  };
  const p = new SupervisedProcess(
    {
      name: 'stubborn',
      // sh ignores TERM and so does its background child (ignored signals are inherited).
      argv: ['sh', '-c', 'trap "" TERM; sleep 30 & echo "child $!"; wait'],
      graceMs: 300,
    },
    { onLine: (_n, l) => lines.push(l), clock },
  );
  p.start();
  assert.ok(await waitUntil(() => lines.some((l) => l.startsWith('child ')), 10_000, 10));
  const leader = p.status().pid!;
  const grandchild = Number(lines.find((l) => l.startsWith('child '))!.split(' ')[1]);
  assert.ok(isAlive(leader) && isAlive(grandchild));
  await p.stop();
  assert.deepEqual(armed, [300], 'SIGKILL was scheduled for the end of the grace period');
  assert.ok(await waitUntil(() => !isAlive(leader) && !isAlive(grandchild), 2000, 20), 'no process left');
  assert.equal(p.status().state, 'stopped');
  assert.equal(p.status().lastExit?.signal, 'SIGKILL');
});

test('restartPolicy Never leaves an exited child alone; a missing command backs off like a crash', async () => {
  const p = new SupervisedProcess({ name: 'once', argv: [node, '-e', ''], restart: 'Never' });
  p.start();
  assert.ok(await waitState(p, 'exited'));
  assert.equal(p.status().restarts, 0);
  const lines: string[] = [];
  const clock = new FakeClock();
  const q = new SupervisedProcess(
    { name: 'missing', argv: ['/nonexistent/mizzen-test-binary'] },
    { clock, onLine: (_n, l) => lines.push(l) },
  );
  q.start();
  assert.ok(await waitState(q, 'backoff'));
  assert.equal(q.status().lastExit?.code, 127);
  assert.ok(lines.some((l) => /cannot start .*ENOENT/.test(l)));
  await q.stop();
});
