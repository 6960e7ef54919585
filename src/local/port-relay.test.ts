import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PortPublisher, startPortRelay } from './port-relay.js';
import { freePort } from './ports.js';

/** A TCP echo on 127.0.0.1 that prefixes what it returns. */
async function echo(): Promise<Server> {
  const s = createServer((c) => {
    c.on('error', () => {});
    c.on('data', (d: Buffer) => c.write(`echo:${d.toString()}`));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return s;
}

/** Sends `bytes` on a fresh connection to `where`; what came back until the peer closed (or 2 s passed). */
function exchange(
  where: { path: string } | { port: number; host: string },
  bytes: string,
  endAfter = false,
): Promise<string> {
  return new Promise((resolve) => {
    const c = connect(where as never);
    let got = '';
    c.on('data', (d: Buffer) => {
      got += d.toString();
      if (endAfter) c.end();
    });
    c.on('error', () => {});
    c.on('close', () => resolve(got));
    const timer = setTimeout(() => c.destroy(), 2000);
    c.on('close', () => clearTimeout(timer));
    c.write(bytes);
  });
}

test('the relay carries a connection to the port its first line names; bad first lines are dropped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mz-relay-'));
  const target = await echo();
  const relay = await startPortRelay(join(dir, 'ports.sock'));
  try {
    assert.equal(statSync(join(dir, 'ports.sock')).mode & 0o777, 0o600, 'only the user may use it');
    const port = (target.address() as AddressInfo).port;
    // The first line and the first bytes after it in one write.
    assert.equal(await exchange({ path: join(dir, 'ports.sock') }, `${port}\nhello`, true), 'echo:hello');
    for (const bad of ['x\n', '0\n', '70000\n', '1234567'])
      assert.equal(await exchange({ path: join(dir, 'ports.sock') }, bad), '', JSON.stringify(bad));
    // A port nothing listens on: the connection is closed, the relay stays up.
    const closed = await freePort();
    assert.equal(await exchange({ path: join(dir, 'ports.sock') }, `${closed}\nx`), '');
    assert.equal(await exchange({ path: join(dir, 'ports.sock') }, `${port}\nagain`, true), 'echo:again');
  } finally {
    relay.close();
    target.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the publisher listens on 127.0.0.1 and goes through the relay; a busy host port is said, not fatal', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mz-relay-'));
  // One network namespace stands in for both sides: the "mesh" side is 127.0.0.2, the host's 127.0.0.1.
  const port = await freePort();
  const target = createServer((c) => {
    c.on('error', () => {});
    c.on('data', (d: Buffer) => c.write(`echo:${d.toString()}`));
  });
  await new Promise<void>((r) => target.listen(port, '127.0.0.2', r));
  const busy = await echo();
  const busyPort = (busy.address() as AddressInfo).port;
  const relay = await startPortRelay(join(dir, 'ports.sock'), '127.0.0.2');
  const said: string[] = [];
  const pub = new PortPublisher(join(dir, 'ports.sock'), (l) => said.push(l));
  try {
    await pub.publish([port, busyPort]);
    assert.deepEqual(pub.ports, [port]);
    assert.equal(await exchange({ host: '127.0.0.1', port }, 'through', true), 'echo:through');
    assert.equal(said.length, 1, said.join('\n'));
    assert.match(said[0], new RegExp(`127\\.0\\.0\\.1:${busyPort} is in use`));
    await pub.publish([port, busyPort]);
    assert.equal(said.length, 1, 'said once');
  } finally {
    pub.close();
    relay.close();
    target.close();
    busy.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
