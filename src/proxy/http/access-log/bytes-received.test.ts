// %BYTES_RECEIVED% / %BYTES_SENT% through a real proxy: the request body the proxy read from the
// downstream is counted (it was 0 for every request that was not an upgrade).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  get,
  hcm,
  httpListener,
  routeConfig,
  startBackend,
  startProxy,
  staticCluster,
  waitFor,
} from '../../test-util.js';

test('the access log counts the request body received and the response body sent', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mz-bytes-'));
  const file = join(dir, 'access.log');
  const app = await startBackend('app', (_req, res) => {
    res.writeHead(200).end('0123456789');
  });
  const log = {
    name: 'envoy.access_loggers.file',
    typedConfig: {
      '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
      path: file,
      logFormat: { textFormatSource: { inlineString: '%REQ(:PATH)% %BYTES_RECEIVED% %BYTES_SENT%\n' } },
    },
  };
  const proxy = await startProxy(
    [
      httpListener(
        'l',
        hcm(routeConfig('r', [{ match: { prefix: '/' }, route: { cluster: 'app' } }]), { accessLog: [log] }),
      ),
    ],
    [staticCluster('app', [app.port])],
  );
  try {
    const r = await get(
      proxy.listenerPort('l'),
      '/upload',
      { 'content-type': 'text/plain' },
      'POST',
      'x'.repeat(1234),
    );
    assert.equal(r.status, 200);
    const line = await waitFor('the access log line', () =>
      existsSync(file)
        ? readFileSync(file, 'utf8')
            .split('\n')
            .find((l) => l.startsWith('/upload '))
        : undefined,
    );
    assert.equal(line, '/upload 1234 10');
  } finally {
    await proxy.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
