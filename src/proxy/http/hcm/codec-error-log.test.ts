// HTTP/1.1 requests the codec refuses (oversized heads, bad header bytes, request smuggling shapes)
// are access-logged as Envoy logs them: the local reply's code, the DPE flag and the codec's details.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../../proxy.js';
import {
  hcm,
  httpListener,
  routeConfig,
  startBackend,
  startProxy,
  staticCluster,
  waitFor,
  type Backend,
} from '../../test-util.js';
import { exchange } from './raw-wire.js';

describe('codec errors in the access log', () => {
  let backend: Backend;
  let proxy: Proxy;
  let port: number;
  let dir: string;
  let logPath: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mz-codec-log-'));
    logPath = join(dir, 'access.log');
    backend = await startBackend('b');
    const accessLog = [
      {
        name: 'envoy.access_loggers.file',
        typedConfig: {
          '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
          path: logPath,
          logFormat: {
            textFormatSource: {
              inlineString:
                '%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %BYTES_RECEIVED% %DOWNSTREAM_REMOTE_ADDRESS%\n',
            },
          },
        },
      },
    ];
    const routes = routeConfig('r', [{ match: { prefix: '/' }, route: { cluster: 'b' } }]);
    proxy = await startProxy(
      [httpListener('h', hcm(routes, { maxRequestHeadersKb: 2, accessLog }))],
      [staticCluster('b', [backend.port])],
    );
    port = proxy.listenerPort('h');
  });

  after(async () => {
    await proxy.close();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Sends `head`, waits for the answer, and returns its status and the access-log line for it. */
  async function refused(head: string, count: number): Promise<{ status: string; line: string }> {
    const reply = (await exchange(port, head, (b) => b.includes('\r\n\r\n'))).toString();
    const line = await waitFor(`access-log line ${count}`, () => {
      let text = '';
      try {
        text = readFileSync(logPath, 'utf8');
      } catch {
        return null;
      }
      const lines = text.trim().split('\n');
      return lines.length >= count ? lines[count - 1] : null;
    });
    return { status: reply.slice(9, 12), line };
  }

  it('logs 431 DPE http1.headers_too_large, 400 DPE with the codec details, and nothing reaches the backend', async () => {
    const before = backend.seen.length;
    const big = await refused(`GET / HTTP/1.1\r\nHost: a\r\nx-big: ${'x'.repeat(3000)}\r\n\r\n`, 1);
    assert.equal(big.status, '431');
    assert.match(big.line, /^431 DPE http1\.headers_too_large [1-9]\d* 127\.0\.0\.1:\d+$/);

    const token = await refused('GET / HTTP/1.1\r\nHost: a\r\nbad header: x\r\n\r\n', 2);
    assert.equal(token.status, '400');
    assert.match(token.line, /^400 DPE http1\.invalid_characters \d+ 127\.0\.0\.1:\d+$/);

    const smuggle = await refused(
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      3,
    );
    assert.equal(smuggle.status, '400');
    assert.match(smuggle.line, /^400 DPE http1\.content_length_and_chunked_not_allowed \d+ /);

    const garbage = await refused('\x01\x02 nonsense\r\n\r\n', 4);
    assert.equal(garbage.status, '400');
    assert.match(garbage.line, /^400 DPE http1\.codec_error \d+ /);
    assert.equal(backend.seen.length, before);
  });
});
