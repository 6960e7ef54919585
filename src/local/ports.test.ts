import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { canBind, ephemeralPortRange, freeGatewayPort } from './ports.js';

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
