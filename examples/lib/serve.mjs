// Starts an example app's HTTP server on HOST/PORT, logs one line per request, and stops on SIGTERM/SIGINT.
import http from 'node:http';

/**
 * Listens on env HOST (default 127.0.0.1) and PORT (default `defaultPort`; 0 picks a free port) and
 * prints `listening on HOST:PORT` as the first line, which `mizzen up` and the tests wait for.
 * @param {string} name app name used in log lines
 * @param {number} defaultPort
 * @param {(req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>} handler may be async
 * @returns {http.Server}
 */
export function serve(name, defaultPort, handler) {
  const host = process.env.HOST || '127.0.0.1';
  const port = Number(process.env.PORT ?? defaultPort);
  const server = http.createServer((req, res) => {
    const started = Date.now();
    res.on('finish', () => logRequest(name, req, res, started));
    const failed = (err) => {
      console.error(`${name}: ${err?.stack ?? err}`);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    };
    try {
      const done = handler(req, res);
      if (done instanceof Promise) done.catch(failed);
    } catch (err) {
      failed(err);
    }
  });
  server.listen(port, host, () => {
    const addr = /** @type {import('node:net').AddressInfo} */ (server.address());
    const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    console.log(`listening on ${shown}:${addr.port}`);
  });
  const stop = () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return server;
}

function logRequest(name, req, res, started) {
  const ms = Date.now() - started;
  const line = `${req.method} ${req.url} HTTP/${req.httpVersion}`;
  console.log(
    `${name}: ${req.socket.remoteAddress} "${line}" ${res.statusCode} ${ms}ms host=${req.headers.host ?? '-'}`,
  );
}

/**
 * Sends `value` as a JSON response.
 * @param {http.ServerResponse} res
 * @param {number} status
 * @param {unknown} value
 * @param {Record<string, string>} [headers]
 */
export function sendJson(res, status, value, headers = {}) {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * Sends a plain-text or HTML response.
 * @param {http.ServerResponse} res
 * @param {number} status
 * @param {string} body
 * @param {string} [contentType]
 * @param {Record<string, string | string[]>} [headers]
 */
export function sendText(res, status, body, contentType = 'text/plain; charset=utf-8', headers = {}) {
  res.writeHead(status, {
    ...headers,
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * Reads a request body up to `limit` bytes.
 * @param {http.IncomingMessage} req
 * @param {number} [limit] bytes
 * @returns {Promise<Buffer>}
 */
export function readBody(req, limit = 1 << 20) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) req.destroy(new Error('request body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
