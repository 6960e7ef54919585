// Finds the JWTs a provider reads in a request: configured headers (after their prefix), query
// parameters and cookies, in that order.
import type { ActiveRequest } from '../../active-request.js';
import type { JwtProvider } from './jwt-provider.js';

/** A token found in the request, and where (so it can be removed when not forwarded). */
export interface FoundToken {
  readonly token: string;
  /** Header it came from ('' for a parameter or cookie). */
  readonly header: string;
}

function headerString(req: ActiveRequest, name: string): string | undefined {
  const v = req.headers[name];
  return v === undefined ? undefined : Array.isArray(v) ? v[0] : v;
}

function cookie(req: ActiveRequest, name: string): string | undefined {
  const raw = req.headers['cookie'];
  if (raw === undefined) return undefined;
  for (const part of (Array.isArray(raw) ? raw.join('; ') : raw).split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** The provider's tokens in the request (first per location), empty when it carries none. */
export function extractTokens(req: ActiveRequest, p: JwtProvider): FoundToken[] {
  const out: FoundToken[] = [];
  for (const h of p.headers) {
    const v = headerString(req, h.name);
    if (v === undefined) continue;
    if (h.prefix === '') {
      if (v.trim() !== '') out.push({ token: v.trim(), header: h.name });
    } else if (
      v.length > h.prefix.length &&
      v.slice(0, h.prefix.length).toLowerCase() === h.prefix.toLowerCase()
    )
      out.push({ token: v.slice(h.prefix.length).trim(), header: h.name });
  }
  for (const name of p.params) {
    const v = req.queryParam(name);
    if (v !== undefined && v !== '') out.push({ token: v, header: '' });
  }
  for (const name of p.cookies) {
    const v = cookie(req, name);
    if (v !== undefined && v !== '') out.push({ token: v, header: '' });
  }
  return out;
}
