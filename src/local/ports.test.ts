import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { canBind, ephemeralPortRange, freeGatewayPort, freePortNotIn, freeStablePort } from './ports.js';

test('a gateway port lies below the ephemeral range, with its 443 partner free too', async () => {
  const [lo, hi] = ephemeralPortRange();
  assert.ok(lo > 1024 && hi >= lo, `range ${lo}-${hi}`);
  const p = await freeGatewayPort();
  assert.ok(p >= 10_000 && p + 363 < lo, `${p} and ${p + 363} below ${lo}`);
  assert.equal(await canBind('127.0.0.1', p), true);
  assert.equal(await canBind('127.0.0.1', p + 363), true);
});

test('a port bound with port 0 is never one freeGatewayPort would choose', async () => {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen({ host: '127.0.0.1', port: 0 }, r));
  const bound = (s.address() as net.AddressInfo).port;
  s.close();
  assert.ok(bound >= ephemeralPortRange()[0], `the kernel handed out ${bound} from the ephemeral range`);
});

test('freePortNotIn never returns a port already chosen, even when the kernel offers it again', async () => {
  const offers = [40_001, 40_001, 40_002, 40_001, 40_003];
  const probe = async (): Promise<number> => offers.shift()!;
  const chosen = new Set<number>([40_002]);
  assert.equal(await freePortNotIn(chosen, '127.0.0.1', probe), 40_001);
  assert.equal(await freePortNotIn(chosen, '127.0.0.1', probe), 40_003);
  assert.deepEqual([...chosen].sort(), [40_001, 40_002, 40_003]);
  // With the kernel's own probe: distinct real ports, each bindable.
  const real = new Set<number>();
  for (let i = 0; i < 5; i++) await freePortNotIn(real);
  assert.equal(real.size, 5);
  for (const p of real) assert.equal(await canBind('127.0.0.1', p), true);
});

test('a stable port is below the ephemeral range and free on every address', async () => {
  const p = await freeStablePort('::');
  assert.ok(p >= 10_000 && p < ephemeralPortRange()[0], `${p}`);
  assert.equal(await canBind('::', p), true);
  assert.equal(await canBind('127.0.0.1', p), true);
});
