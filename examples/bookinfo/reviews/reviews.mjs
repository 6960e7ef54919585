// Bookinfo's reviews service: two reviews per book; v2 and v3 add star ratings fetched from ratings.
import os from 'node:os';
import { request, serviceTarget } from '../../lib/http-client.mjs';
import { PROPAGATED_HEADERS, pickHeaders } from '../../lib/trace-headers.mjs';
import { sendJson, serve } from '../../lib/serve.mjs';

/** SERVICE_VERSION v1: no ratings; v2: black stars; v3: red stars. ENABLE_RATINGS/STAR_COLOR override. */
const version = process.env.SERVICE_VERSION || 'v1';
const ratingsEnabled = process.env.ENABLE_RATINGS
  ? process.env.ENABLE_RATINGS === 'true'
  : version === 'v2' || version === 'v3';
const starColor = process.env.STAR_COLOR || (version === 'v3' ? 'red' : 'black');
/** Ratings call timeout: 10 s, longer than productpage's 3 s + retry, so the fault-injection task's bug shows. */
const ratingsTimeoutMs = 10000;
const ratings = serviceTarget('ratings', 9080);
const podName = process.env.POD_NAME || process.env.HOSTNAME || os.hostname();
const clusterName = process.env.CLUSTER_NAME || 'null';

const REVIEWS = [
  {
    reviewer: 'Reviewer1',
    text: 'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!',
  },
  {
    reviewer: 'Reviewer2',
    text: 'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.',
  },
];

/** Fetches `{ Reviewer1: n, ... }` from ratings, or null when ratings fails, times out or answers non-200. */
async function fetchRatings(id, incoming) {
  try {
    const res = await request(ratings, `/ratings/${id}`, {
      headers: { ...pickHeaders(incoming, PROPAGATED_HEADERS), accept: 'application/json' },
      timeoutMs: ratingsTimeoutMs,
    });
    if (res.status !== 200) {
      console.log(`reviews: ratings answered ${res.status}`);
      return null;
    }
    return JSON.parse(res.body).ratings ?? null;
  } catch (err) {
    console.log(`reviews: unable to contact ratings: ${err?.message ?? err}`);
    return null;
  }
}

function ratingOf(stars) {
  return Number.isInteger(stars)
    ? { stars, color: starColor }
    : { error: 'Ratings service is currently unavailable' };
}

async function handle(req, res) {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/health') return sendJson(res, 200, { status: 'Reviews is healthy' });
  const m = /^\/reviews\/([^/]*)$/.exec(path);
  if (m === null) return sendJson(res, 404, { error: 'unsupported URL' });
  if (!/^\d+$/.test(m[1])) return sendJson(res, 400, { error: 'please provide numeric product id' });
  const id = String(Number(m[1]));
  const stars = ratingsEnabled ? await fetchRatings(id, req.headers) : null;
  const reviews = REVIEWS.map((r) =>
    ratingsEnabled ? { ...r, rating: ratingOf(stars?.[r.reviewer]) } : { ...r },
  );
  sendJson(res, 200, { id, podname: podName, clustername: clusterName, reviews });
}

serve('reviews', 9080, handle);
