// HTTP/1.1 client shared by the example apps: direct connections, or absolute-form requests via HTTP_PROXY.
import http from 'node:http';

/**
 * Reads the forward proxy from HTTP_PROXY (or http_proxy), e.g. `http://127.1.0.3:15001` in local mode.
 * @param {NodeJS.ProcessEnv} env
 * @returns {{ host: string, port: number } | null}
 */
export function proxyFromEnv(env) {
  const raw = env.HTTP_PROXY || env.http_proxy;
  if (!raw) return null;
  const url = new URL(raw.includes('://') ? raw : `http://${raw}`);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) };
}

/**
 * Reads NO_PROXY (or no_proxy): comma-separated host names or domain suffixes, `*` for all.
 * @param {NodeJS.ProcessEnv} env
 * @returns {string[]}
 */
export function noProxyFromEnv(env) {
  return (env.NO_PROXY || env.no_proxy || '')
    .split(',')
    .map((s) =>
      s
        .trim()
        .toLowerCase()
        .replace(/^\*?\./, ''),
    )
    .filter((s) => s !== '');
}

function bypassesProxy(host, noProxy) {
  const h = host.toLowerCase();
  for (const entry of noProxy) {
    if (entry === '*' || h === entry || h.endsWith(`.${entry}`)) return true;
  }
  return false;
}

const proxy = proxyFromEnv(process.env);
const noProxy = noProxyFromEnv(process.env);

/**
 * Where a named service is reached, the way bookinfo resolves it: host `<NAME>_HOSTNAME` (default: the
 * name) followed by `.<SERVICES_DOMAIN>` when set; port `<NAME>_SERVICE_PORT` (default: `defaultPort`).
 * @param {string} name service name, e.g. `reviews`
 * @param {number} defaultPort e.g. 9080
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {{ host: string, port: number }}
 */
export function serviceTarget(name, defaultPort, env = process.env) {
  const key = name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  const domain = env.SERVICES_DOMAIN ? `.${env.SERVICES_DOMAIN}` : '';
  const host = (env[`${key}_HOSTNAME`] || name) + domain;
  const port = Number(env[`${key}_SERVICE_PORT`] || defaultPort);
  return { host, port };
}

/**
 * @typedef {object} HttpResponse
 * @property {number} status
 * @property {import('node:http').IncomingHttpHeaders} headers
 * @property {string} body UTF-8 decoded
 */

/**
 * Sends one request to `target` and reads the whole response. Through HTTP_PROXY the request line is
 * absolute-form (`GET http://reviews:9080/reviews/0 HTTP/1.1`) and goes to the proxy's address; without
 * it the client connects to the target itself. Rejects on connect errors, resets and on timeout
 * (error code `ETIMEDOUT`).
 * @param {{ host: string, port: number }} target
 * @param {string} path origin-form path with query, e.g. `/reviews/0`
 * @param {{ method?: string, headers?: Record<string, string>, body?: string | Buffer, timeoutMs?: number }} [options]
 *   timeoutMs: whole-exchange limit in milliseconds (0 or absent: none)
 * @returns {Promise<HttpResponse>}
 */
export function request(target, path, options = {}) {
  const hostPart = target.host.includes(':') ? `[${target.host}]` : target.host;
  const authority = `${hostPart}:${target.port}`;
  const headers = { ...options.headers, host: authority };
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
  const viaProxy = proxy !== null && !bypassesProxy(target.host, noProxy);
  const where = viaProxy
    ? { host: proxy.host, port: proxy.port, path: `http://${authority}${path}` }
    : { host: target.host, port: target.port, path };
  const method = options.method ?? 'GET';
  const retryStale = method === 'GET' || method === 'HEAD';
  return send({ ...where, method, headers }, options, `${authority}${path}`, retryStale);
}

/**
 * One exchange. A kept-alive connection that the peer closed while idle fails with ECONNRESET on
 * reuse; for GET/HEAD that is retried once on a fresh connection (the request never reached the app).
 */
function send(reqOptions, options, what, retryStale) {
  return new Promise((resolve, reject) => {
    const req = http.request(reqOptions);
    let timer = null;
    const fail = (err) => {
      if (timer !== null) clearTimeout(timer);
      reject(err);
    };
    if (options.timeoutMs) {
      timer = setTimeout(() => {
        const err = new Error(`request to ${what} timed out after ${options.timeoutMs} ms`);
        err.code = 'ETIMEDOUT';
        req.destroy(err);
      }, options.timeoutMs);
    }
    req.on('error', (err) => {
      if (retryStale && req.reusedSocket && err.code === 'ECONNRESET') {
        if (timer !== null) clearTimeout(timer);
        resolve(send(reqOptions, options, what, false));
      } else {
        fail(err);
      }
    });
    req.on('response', (res) => {
      retryStale = false;
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', fail);
      res.on('close', () => {
        if (!res.complete) fail(new Error(`response from ${what} was cut short`));
      });
      res.on('end', () => {
        if (timer !== null) clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    req.end(options.body);
  });
}
