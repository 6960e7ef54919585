// Runs the tcp-echo example on two ports and checks that it prefixes every line it echoes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawnApp, type App } from './harness.js';

let echo: App;

before(async () => {
  echo = await spawnApp('tcp-echo/tcp-echo.mjs', { args: ['0,0', 'one'], listeners: 2 });
});

after(async () => {
  await echo?.stop();
});

/** Sends `data`, half-closes, and returns everything the server sent until it closed. */
function exchange(port: number, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.end(data));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (got += chunk));
    socket.on('end', () => resolve(got));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('tcp-echo did not answer')));
  });
}

test('each line comes back with the prefix, on both ports', async () => {
  assert.equal(echo.ports.length, 2);
  assert.notEqual(echo.ports[0], echo.ports[1]);
  for (const port of echo.ports) assert.equal(await exchange(port, 'hello\n'), 'one hello\n');
});

test('several lines in one write, and a last line without newline', async () => {
  assert.equal(await exchange(echo.port, 'a\nb\nc'), 'one a\none b\none c\n');
});

test('lines split across writes are echoed whole', async () => {
  const got = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const socket = net.connect(echo.port, '127.0.0.1', () => {
      socket.write('port ');
      setTimeout(() => socket.end('9000\n'), 30);
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (buf += chunk));
    socket.on('end', () => resolve(buf));
    socket.on('error', reject);
  });
  assert.equal(got, 'one port 9000\n');
});

test('the prefix can come from env PREFIX and the port from env PORT', async () => {
  const two = await spawnApp('tcp-echo/tcp-echo.mjs', { env: { PREFIX: 'two' } });
  try {
    assert.equal(await exchange(two.port, 'hi\n'), 'two hi\n');
  } finally {
    await two.stop();
  }
});
