// Applies the HCM's path policy to one request before routing: fragments refused, the compiled
// PathNormalizer run once, `req.path`/`req.pathOnly` replaced by the normalized path.
import type { ActiveRequest } from '../active-request.js';
import { ProxyErrorCode } from '../local-reply.js';
import { PathVerdict } from './path-normalization.js';

/** Normalizes `req`'s path in place; false when a local reply (400 or 307) already answered it. */
export function normalizeRequestPath(req: ActiveRequest): boolean {
  const path = req.path;
  // Envoy refuses a fragment in :path (clients never send one; a proxy must not route on it).
  if (path.indexOf('#') >= 0) {
    req.sendLocalReply(ProxyErrorCode.FragmentInPath);
    return false;
  }
  const n = req.hcm.pathNormalizer;
  if (n === null || path.charCodeAt(0) !== 47) return true;
  const r = n.apply(path);
  switch (r.verdict) {
    case PathVerdict.Reject:
      req.sendLocalReply(ProxyErrorCode.PathNormalizationFailed);
      return false;
    case PathVerdict.Redirect:
      req.responseCodeDetails = 'path_normalization_failed';
      req.sendResponse(307, { location: r.path }, null);
      return false;
  }
  if (r.path !== path) {
    req.path = r.path;
    const q = r.path.indexOf('?');
    req.pathOnly = q >= 0 ? r.path.slice(0, q) : r.path;
  }
  return true;
}
