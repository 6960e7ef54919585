// The RBAC view of one HTTP request: connection facts, headers, path, original client IP, metadata.
import type { ActiveRequest } from '../../active-request.js';
import type { HeaderSource } from '../../../matchers/header-matcher.js';
import { splitAddress, type RbacInput } from '../../../rbac/rbac-input.js';
import type { DynamicMetadata } from '../../../rbac/value-matcher.js';

/**
 * The original client address as Envoy's HCM determines it: with use_remote_address the peer
 * (xff_num_trusted_hops 0) or the entry that many hops left of it in X-Forwarded-For (which already
 * ends with the peer); without it the last X-Forwarded-For entry minus the trusted hops, else the peer.
 */
export function originalClientIp(req: ActiveRequest): string {
  const hcm = req.hcm;
  const peer = req.conn.remoteIp;
  const hops = hcm.xffNumTrustedHops;
  if (hcm.useRemoteAddress && hops === 0) return peer;
  const raw = req.headers['x-forwarded-for'];
  if (raw === undefined) return peer;
  const list = (Array.isArray(raw) ? raw.join(',') : raw).split(',');
  const i = list.length - 1 - hops;
  const ip = i >= 0 ? list[i].trim() : '';
  return ip !== '' ? ip : peer;
}

/** An RbacInput over an ActiveRequest, built once per request by the first RBAC filter that needs it. */
export class HttpRbacInput implements RbacInput {
  readonly directRemoteIp: string;
  readonly remoteIp: string;
  readonly localIp: string;
  readonly localPort: number;
  readonly sni: string;
  readonly peerPrincipal: string;
  readonly headers: HeaderSource;
  readonly path: string;
  readonly metadata: DynamicMetadata | null;

  constructor(req: ActiveRequest) {
    const c = req.conn;
    this.directRemoteIp = c.remoteIp;
    this.remoteIp = originalClientIp(req);
    const local = splitAddress(c.localAddress);
    this.localIp = local.ip;
    this.localPort = local.port;
    this.sni = c.sni;
    this.peerPrincipal = c.peerPrincipal;
    this.headers = req;
    const q = req.path.indexOf('?');
    this.path = q >= 0 ? req.path.slice(0, q) : req.path;
    this.metadata = req.dynamicMetadata;
  }
}
