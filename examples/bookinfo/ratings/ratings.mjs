// Bookinfo's ratings service: star ratings per product (`/ratings/{id}`), updatable with POST.
import { readBody, sendJson, serve } from '../../lib/serve.mjs';

/**
 * SERVICE_VERSION: `v1` (default) answers normally; `v-faulty` fails half the requests with 503;
 * `v-delayed` delays half the requests by 7 s. Useful for outlier detection and timeout demos.
 */
const version = process.env.SERVICE_VERSION || 'v1';

/** Ratings per product id, seeded lazily with bookinfo's two reviewers. */
const ratingsById = new Map();

function ratingsFor(id) {
  let ratings = ratingsById.get(id);
  if (ratings === undefined) {
    ratings = { Reviewer1: 5, Reviewer2: 4 };
    ratingsById.set(id, ratings);
  }
  return ratings;
}

async function handle(req, res) {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/health') return sendJson(res, 200, { status: 'Ratings is healthy' });
  const m = /^\/ratings\/([^/]*)$/.exec(path);
  if (m === null) return sendJson(res, 404, { error: 'unsupported URL' });
  if (!/^\d+$/.test(m[1])) return sendJson(res, 400, { error: 'please provide numeric product ID' });
  const id = Number(m[1]);
  if (version === 'v-faulty' && Math.random() < 0.5) {
    return sendJson(res, 503, { error: 'Service unavailable' });
  }
  if (version === 'v-delayed' && Math.random() < 0.5) {
    await new Promise((resolve) => setTimeout(resolve, 7000));
  }
  if (req.method === 'POST') return update(req, res, id);
  if (req.method !== 'GET') return sendJson(res, 405, { error: 'method not allowed' });
  sendJson(res, 200, { id, ratings: ratingsFor(id) });
}

async function update(req, res, id) {
  let body;
  try {
    body = JSON.parse((await readBody(req)).toString('utf8'));
  } catch {
    return sendJson(res, 400, { error: 'please provide valid ratings JSON' });
  }
  const ratings = ratingsFor(id);
  for (const [reviewer, stars] of Object.entries(body ?? {})) {
    if (!Number.isInteger(stars) || stars < 1 || stars > 5) {
      return sendJson(res, 400, { error: 'please provide valid ratings JSON' });
    }
    ratings[reviewer] = stars;
  }
  sendJson(res, 200, { id, ratings });
}

serve('ratings', 9080, handle);
