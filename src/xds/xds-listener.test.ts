// The xDS port's listener: the accept queue is as deep as the kernel allows (read back from the kernel with
// `ss`), proxies are served through it, a host name still binds through gRPC, and close stops accepting.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { test } from 'node:test';
import { AdsClient } from './ads-client.js';
import { AdsServer } from './ads-server.js';
import { TypeUrl } from './type-urls.js';
import { edsCluster, waitFor } from './test-util.js';
import { maxListenBacklog, splitHostPort } from './xds-listener.js';

function server(address: string): AdsServer {
  return new AdsServer({
    address,
    debounceMs: 5,
    log: () => {},
    generate: (_p, typeUrl) => (typeUrl === TypeUrl.CLUSTER ? [edsCluster('through-the-listener')] : []),
  });
}

/** The listening socket's accept queue length as the kernel reports it (`ss -ltn`: Send-Q of a listener). */
function kernelBacklog(port: number): number {
  const out = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim();
  const cols = out.split(/\s+/);
  assert.ok(cols.length >= 4, `ss printed no listener on port ${port}: ${JSON.stringify(out)}`);
  return Number(cols[2]);
}

/** Serves one proxy a cluster over `address`; resolves once it arrived. */
async function servesAProxy(address: string): Promise<void> {
  const seen: string[] = [];
  const client = new AdsClient({
    server: address,
    node: { id: 'sidecar~127.0.0.1~listener.default~default.svc.cluster.local' },
    onResources: (typeUrl, resources) => {
      if (typeUrl === TypeUrl.CLUSTER) seen.push(...resources.map((r) => String(r.name)));
    },
    wildcardTypes: [TypeUrl.CLUSTER],
    log: () => {},
  });
  try {
    client.start();
    await waitFor(`a cluster over ${address}`, () => seen.includes('through-the-listener'));
  } finally {
    client.close();
  }
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

test('the xDS port accepts into the deepest queue the kernel allows, not Node’s default of 511', async () => {
  const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
  const s = server('127.0.0.1:0');
  const port = await s.listen();
  try {
    assert.equal(s.listenBacklog, Math.min(somaxconn, 65535));
    assert.equal(kernelBacklog(port), s.listenBacklog);
    if (somaxconn > 511) assert.ok(kernelBacklog(port) > 511);
    await servesAProxy(`127.0.0.1:${port}`);
  } finally {
    await s.close();
  }
  assert.ok(await refused(port), 'the port still accepted connections after close()');
});

test('a host name is bound by gRPC on every address it resolves to, and serves', async () => {
  const s = server('localhost:0');
  const port = await s.listen();
  try {
    assert.ok(port > 0);
    assert.equal(s.listenBacklog, 0);
    await servesAProxy(`127.0.0.1:${port}`);
  } finally {
    await s.close();
  }
});

test('a port already taken fails listen() with the system error, and the server can still shut down', async () => {
  const first = server('127.0.0.1:0');
  const port = await first.listen();
  const second = server(`127.0.0.1:${port}`);
  try {
    await assert.rejects(
      second.listen(),
      new RegExp(
        `cannot listen for xDS on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\): something else listens there`,
      ),
    );
    assert.equal(second.port, 0);
  } finally {
    await second.close();
    await first.close();
  }
});

test('maxListenBacklog reads net.core.somaxconn, caps it at 65535, and falls back to 4096', () => {
  assert.equal(
    maxListenBacklog(() => '8192\n'),
    8192,
  );
  assert.equal(
    maxListenBacklog(() => '1000000\n'),
    65535,
  );
  assert.equal(
    maxListenBacklog(() => 'garbage'),
    4096,
  );
  assert.equal(
    maxListenBacklog(() => {
      throw new Error('ENOENT');
    }),
    4096,
  );
});

test('splitHostPort takes IPv6 brackets off and keeps the port', () => {
  assert.deepEqual(splitHostPort('[::]:15010'), { host: '::', port: 15010 });
  assert.deepEqual(splitHostPort('0.0.0.0:0'), { host: '0.0.0.0', port: 0 });
  assert.deepEqual(splitHostPort('istiod.istio-system.svc:15012'), {
    host: 'istiod.istio-system.svc',
    port: 15012,
  });
});
