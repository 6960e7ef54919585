// Pod IP allocation: deterministic, in range, collision-free, keeps earlier IPs, skips busy ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocatePodIps, appIpOf, isPodIp } from './pod-ip.js';

const keys = Array.from({ length: 300 }, (_, i) => `default/pod-${i}`);

test('the same keys get the same IPs every time, all distinct and in 127.1.0.0/16', () => {
  const a = allocatePodIps(keys);
  const b = allocatePodIps(keys);
  assert.deepEqual([...a], [...b]);
  const ips = [...a.values()];
  assert.equal(new Set(ips).size, keys.length);
  for (const ip of ips) assert.ok(isPodIp(ip), ip);
});

test('a pod keeps its IP when other pods come and go (hashed, not sequential)', () => {
  const all = allocatePodIps(keys);
  const some = allocatePodIps(keys.filter((_, i) => i % 3 === 0).reverse());
  for (const [k, ip] of some) assert.equal(ip, all.get(k), k);
});

test('a taken or unusable IP is skipped; a previous allocation is kept when free', () => {
  const home = allocatePodIps(['default/a']).get('default/a')!;
  const moved = allocatePodIps(['default/a'], { taken: new Set([home]) }).get('default/a')!;
  assert.notEqual(moved, home);
  assert.ok(isPodIp(moved));
  const busy = allocatePodIps(['default/a'], { usable: (ip) => ip !== home }).get('default/a')!;
  assert.equal(busy, moved);
  const prev = allocatePodIps(['default/a'], { previous: new Map([['default/a', '127.1.9.9']]) });
  assert.equal(prev.get('default/a'), '127.1.9.9');
  const prevTaken = allocatePodIps(['default/a'], {
    previous: new Map([['default/a', '127.1.9.9']]),
    taken: new Set(['127.1.9.9']),
  });
  assert.equal(prevTaken.get('default/a'), home);
});

test('the app address mirrors the pod IP in 127.2/16; no .0 or .255 hosts', () => {
  assert.equal(appIpOf('127.1.4.200'), '127.2.4.200');
  assert.throws(() => appIpOf('10.0.0.1'), /not a pod IP/);
  assert.equal(isPodIp('127.1.3.0'), false);
  assert.equal(isPodIp('127.1.3.255'), false);
  for (const ip of allocatePodIps(keys).values()) {
    const last = Number(ip.split('.')[3]);
    assert.ok(last >= 1 && last <= 254, ip);
  }
});
