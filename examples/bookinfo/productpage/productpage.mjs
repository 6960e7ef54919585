// Bookinfo's productpage: the HTML page and JSON API in front of details, reviews and ratings.
import { TRACE_HEADERS, pickHeaders } from '../../lib/trace-headers.mjs';
import { readBody, sendJson, sendText, serve } from '../../lib/serve.mjs';
import { getDetails, getRatings, getReviews } from './backends.mjs';
import { PRODUCTS, STYLESHEET, renderIndex, renderProductPage } from './page.mjs';

const HTML = 'text/html; charset=utf-8';

/** The signed-in user: the `user` cookie that /login sets, or ''. */
function userOf(req) {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === 'user') {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return '';
      }
    }
  }
  return '';
}

/** Headers for every downstream call: the trace context plus `end-user` when someone is signed in. */
function forwardHeaders(req) {
  const headers = pickHeaders(req.headers, TRACE_HEADERS);
  const user = userOf(req);
  if (user) headers['end-user'] = user;
  return headers;
}

function redirect(res, location, cookie) {
  res.writeHead(302, { location, 'set-cookie': cookie, 'content-length': 0 });
  res.end();
}

async function login(req, res) {
  const url = new URL(req.url ?? '/', 'http://productpage');
  const form = new URLSearchParams((await readBody(req)).toString('utf8'));
  const user = form.get('username') ?? url.searchParams.get('username') ?? '';
  redirect(res, '/productpage', `user=${encodeURIComponent(user)}; Path=/`);
}

function logout(res) {
  redirect(res, '/productpage', 'user=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT');
}

async function productPage(req, res) {
  const headers = forwardHeaders(req);
  const [details, reviews] = await Promise.all([getDetails(0, headers), getReviews(0, headers)]);
  const html = renderProductPage({
    product: PRODUCTS[0],
    user: userOf(req),
    detailsStatus: details.status,
    details: details.body,
    reviewsStatus: reviews.status,
    reviews: reviews.body,
  });
  sendText(res, 200, html, HTML);
}

const API_PRODUCT = /^\/api\/v1\/products\/([^/]+)(?:\/(reviews|ratings))?$/;

async function handle(req, res) {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/login' && req.method === 'POST') return login(req, res);
  if (path === '/logout') return logout(res);
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return sendJson(res, 405, { error: 'method not allowed' });
  if (path === '/productpage') return productPage(req, res);
  if (path === '/' || path === '/index.html') return sendText(res, 200, renderIndex(), HTML);
  if (path === '/health') return sendText(res, 200, 'Product page is healthy');
  if (path === '/static/bookinfo.css') return sendText(res, 200, STYLESHEET, 'text/css; charset=utf-8');
  if (path === '/api/v1/products') return sendJson(res, 200, PRODUCTS);
  const m = API_PRODUCT.exec(path);
  if (m !== null) {
    const call = m[2] === 'reviews' ? getReviews : m[2] === 'ratings' ? getRatings : getDetails;
    const result = await call(m[1], forwardHeaders(req));
    return sendJson(res, result.status, result.body);
  }
  sendText(res, 404, 'Not Found');
}

serve('productpage', 9080, handle);
