// productpage's calls to details, reviews and ratings, with bookinfo's timeouts, retry and error texts.
import { request, serviceTarget } from '../../lib/http-client.mjs';

const details = serviceTarget('details', 9080);
const reviews = serviceTarget('reviews', 9080);
const ratings = serviceTarget('ratings', 9080);

/** Per-call timeout of every backend call, as bookinfo's productpage (milliseconds). */
export const BACKEND_TIMEOUT_MS = 3000;
/** Tries per reviews call: bookinfo retries reviews once, so a hanging reviews costs 2 × 3 s. */
export const REVIEWS_TRIES = 2;

/** @typedef {{ status: number, body: any }} BackendResult status 200 with parsed JSON, or an error body */

async function tryOnce(target, path, headers) {
  try {
    const res = await request(target, path, {
      headers: { ...headers, accept: 'application/json' },
      timeoutMs: BACKEND_TIMEOUT_MS,
    });
    if (res.status !== 200) return { status: res.status, body: null };
    return { status: 200, body: JSON.parse(res.body) };
  } catch (err) {
    console.log(`productpage: ${target.host}:${target.port}${path} failed: ${err?.message ?? err}`);
    return { status: 500, body: null };
  }
}

function orError(result, what) {
  if (result.status === 200 && result.body !== null) return result;
  const status = result.status === 200 ? 500 : result.status;
  return { status, body: { error: `Sorry, product ${what} are currently unavailable for this book.` } };
}

/**
 * GET details `/details/{id}`.
 * @param {string | number} id
 * @param {Record<string, string>} headers forwarded headers
 * @returns {Promise<BackendResult>}
 */
export async function getDetails(id, headers) {
  return orError(await tryOnce(details, `/details/${id}`, headers), 'details');
}

/**
 * GET reviews `/reviews/{id}`, tried REVIEWS_TRIES times until one answers 200.
 * @param {string | number} id
 * @param {Record<string, string>} headers forwarded headers
 * @returns {Promise<BackendResult>}
 */
export async function getReviews(id, headers) {
  let result = { status: 500, body: null };
  for (let i = 0; i < REVIEWS_TRIES; i++) {
    result = await tryOnce(reviews, `/reviews/${id}`, headers);
    if (result.status === 200) break;
  }
  return orError(result, 'reviews');
}

/**
 * GET ratings `/ratings/{id}`.
 * @param {string | number} id
 * @param {Record<string, string>} headers forwarded headers
 * @returns {Promise<BackendResult>}
 */
export async function getRatings(id, headers) {
  return orError(await tryOnce(ratings, `/ratings/${id}`, headers), 'ratings');
}
