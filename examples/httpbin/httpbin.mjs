// An httpbin-like echo service: status codes, delays, and JSON descriptions of the request it received.
import { readBody, sendJson, sendText, serve } from '../lib/serve.mjs';

/** Longest delay `/delay/{s}` honours (seconds), as httpbin. */
const MAX_DELAY_S = 10;

/** `x-b3-traceid` → `X-B3-Traceid`, the canonical form httpbin shows. */
function canonical(name) {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash, c) => dash + c.toUpperCase());
}

function headersOf(req) {
  const out = {};
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = canonical(raw[i]);
    out[name] = name in out ? `${out[name]},${raw[i + 1]}` : raw[i + 1];
  }
  return out;
}

function argsOf(url) {
  const out = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    out[key] = values.length === 1 ? values[0] : values;
  }
  return out;
}

function originOf(req) {
  const xff = req.headers['x-forwarded-for'];
  return typeof xff === 'string' && xff !== '' ? xff : (req.socket.remoteAddress ?? '');
}

/** The JSON description of a request that /get, /anything, /post etc. return. */
async function describe(req, url, withBody) {
  const info = { args: argsOf(url), headers: headersOf(req), origin: originOf(req), url: fullUrl(req, url) };
  if (!withBody) return info;
  const body = (await readBody(req)).toString('utf8');
  const type = req.headers['content-type'] ?? '';
  let json = null;
  let form = {};
  if (type.startsWith('application/json')) {
    try {
      json = JSON.parse(body);
    } catch {}
  } else if (type.startsWith('application/x-www-form-urlencoded')) {
    form = argsOf(new URL(`http://x/?${body}`));
  }
  return { ...info, data: body, files: {}, form, json, method: req.method };
}

function fullUrl(req, url) {
  const proto = req.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
  return `${proto}://${req.headers.host ?? 'httpbin'}${url.pathname}${url.search}`;
}

/** `/status/200,503` picks one code at random; `/status/200:0.9,503:0.1` picks by weight. */
function pickStatus(spec) {
  const choices = spec.split(',').map((part) => {
    const [code, weight] = part.split(':');
    return { code: Number(code), weight: weight === undefined ? 1 : Number(weight) };
  });
  if (choices.some((c) => !Number.isInteger(c.code) || c.code < 200 || c.code > 599 || !(c.weight >= 0))) {
    return 0;
  }
  let r = Math.random() * choices.reduce((sum, c) => sum + c.weight, 0);
  for (const c of choices) {
    r -= c.weight;
    if (r < 0) return c.code;
  }
  return choices[choices.length - 1].code;
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://httpbin');
  const path = url.pathname;
  const method = req.method ?? 'GET';
  const segments = path.split('/');
  if (path === '/') return sendText(res, 200, 'httpbin: try /get, /headers, /ip, /status/418, /delay/1\n');
  if (segments[1] === 'status' && segments.length === 3) {
    const code = pickStatus(segments[2]);
    if (code === 0) return sendText(res, 400, 'Invalid status code\n');
    if (code === 204 || code === 304) return void res.writeHead(code).end();
    return sendText(res, code, code === 418 ? "I'm a teapot\n" : '');
  }
  if (segments[1] === 'delay' && segments.length === 3) {
    const seconds = Math.min(Number(segments[2]), MAX_DELAY_S);
    if (!(seconds >= 0)) return sendText(res, 400, 'Invalid delay\n');
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    return sendJson(res, 200, await describe(req, url, BODY_METHODS.has(method)));
  }
  if (path === '/anything' || path.startsWith('/anything/')) {
    return sendJson(res, 200, await describe(req, url, true));
  }
  switch (path) {
    case '/headers':
      return sendJson(res, 200, { headers: headersOf(req) });
    case '/ip':
      return sendJson(res, 200, { origin: originOf(req) });
    case '/user-agent':
      return sendJson(res, 200, { 'user-agent': req.headers['user-agent'] ?? null });
    case '/get':
      if (method !== 'GET' && method !== 'HEAD') break;
      return sendJson(res, 200, await describe(req, url, false));
    case '/post':
    case '/put':
    case '/patch':
    case '/delete':
      if (method !== path.slice(1).toUpperCase()) break;
      return sendJson(res, 200, await describe(req, url, true));
    case '/response-headers': {
      const args = argsOf(url);
      return sendJson(
        res,
        200,
        args,
        Object.fromEntries(Object.entries(args).map(([k, v]) => [k, String(v)])),
      );
    }
    default:
      return sendText(res, 404, 'Not Found\n');
  }
  sendText(res, 405, 'Method Not Allowed\n');
}

serve('httpbin', 8080, handle);
