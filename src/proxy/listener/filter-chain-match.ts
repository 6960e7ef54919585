// Envoy's filter chain selection: each filter_chain_match criterion is applied in Envoy's order
// (destination port, destination IP, server name, transport protocol, application protocols, direct
// source IP, source type, source IP, source port); at every step only the most specific candidates
// survive, and there is no backtracking (a chain that wins a step and fails a later one means no match).
import { isIP, type Socket } from 'node:net';
import type {
  envoy_config_core_v3_CidrRange as CidrRangeMessage,
  envoy_config_listener_v3_FilterChainMatch as FilterChainMatchMessage,
} from '../../xds/envoy-types.js';
import { u32 } from '../util/values.js';
import type { Inspection } from './inspector.js';

/** Facts about one accepted connection. */
export interface ConnectionFacts {
  readonly destinationPort: number;
  readonly destinationIp: string;
  /** SNI ('' for none). */
  readonly serverName: string;
  /** `tls` or `raw_buffer`. */
  readonly transportProtocol: string;
  readonly applicationProtocols: readonly string[];
  readonly sourceIp: string;
  readonly sourcePort: number;
}

/** One CIDR range, compiled. */
interface Cidr {
  readonly v6: boolean;
  readonly bits: bigint;
  readonly len: number;
}

/** A compiled envoy.config.listener.v3.FilterChainMatch. */
export class FilterChainMatch {
  /** Local (destination) port, 0 = any. */
  readonly destinationPort: number;
  /** SNI names (exact, or `*.suffix` wildcards); empty = any. */
  readonly serverNames: readonly string[];
  /** 'raw_buffer', 'tls' or '' (any). */
  readonly transportProtocol: string;
  /** ALPN protocols; empty = any. */
  readonly applicationProtocols: readonly string[];
  private readonly prefixRanges: readonly Cidr[];
  private readonly directSourcePrefixRanges: readonly Cidr[];
  private readonly sourcePrefixRanges: readonly Cidr[];
  private readonly sourcePorts: readonly number[];
  /** 'ANY', 'SAME_IP_OR_LOOPBACK' or 'EXTERNAL'. */
  private readonly sourceType: string;

  /**
   * Compiles a canonical FilterChainMatch (absent = match everything). `terminatesTls`: the chain has
   * a TLS transport socket, so it never takes plaintext connections (lets HTTP and HTTPS share a port).
   * Throws on bad CIDRs.
   */
  constructor(
    m: FilterChainMatchMessage | null | undefined,
    private readonly terminatesTls = false,
  ) {
    // address_suffix and suffix_len are left out as Envoy leaves them ("not implemented").
    this.destinationPort = u32(m?.destinationPort, 0);
    this.serverNames = (m?.serverNames ?? []).map((s) => s.toLowerCase());
    this.transportProtocol = m?.transportProtocol ?? '';
    this.applicationProtocols = m?.applicationProtocols ?? [];
    this.prefixRanges = cidrs(m?.prefixRanges, 'prefixRanges');
    this.directSourcePrefixRanges = cidrs(m?.directSourcePrefixRanges, 'directSourcePrefixRanges');
    this.sourcePrefixRanges = cidrs(m?.sourcePrefixRanges, 'sourcePrefixRanges');
    this.sourcePorts = m?.sourcePorts ?? [];
    this.sourceType = m?.sourceType ?? 'ANY';
  }

  /** True when the chain can only be told apart after looking at the first bytes (TLS, SNI, ALPN). */
  get needsInspection(): boolean {
    return (
      this.terminatesTls ||
      this.serverNames.length > 0 ||
      this.transportProtocol !== '' ||
      this.applicationProtocols.length > 0
    );
  }

  /** Score of each step: -1 no match, 0 matched by "not configured", higher = more specific. */
  score(step: number, f: ConnectionFacts, dst: Addr | null, src: Addr | null): number {
    switch (step) {
      case 0:
        return this.destinationPort === 0 ? 0 : this.destinationPort === f.destinationPort ? 1 : -1;
      case 1:
        return cidrScore(this.prefixRanges, dst);
      case 2:
        return serverNameScore(this.serverNames, f.serverName);
      case 3:
        if (this.terminatesTls && f.transportProtocol !== 'tls') return -1;
        return this.transportProtocol === '' ? 0 : this.transportProtocol === f.transportProtocol ? 1 : -1;
      case 4:
        return this.applicationProtocols.length === 0
          ? 0
          : this.applicationProtocols.some((p) => f.applicationProtocols.includes(p))
            ? 1
            : -1;
      case 5:
        return cidrScore(this.directSourcePrefixRanges, src);
      case 6:
        return sourceTypeScore(this.sourceType, f);
      case 7:
        return cidrScore(this.sourcePrefixRanges, src);
      default:
        return this.sourcePorts.length === 0 ? 0 : this.sourcePorts.includes(f.sourcePort) ? 1 : -1;
    }
  }
}

const STEPS = 9;

/** The facts of an accepted connection, with what inspection learned (null: not inspected, plaintext). */
export function connectionFacts(socket: Socket, insp: Inspection | null): ConnectionFacts {
  return {
    destinationPort: socket.localPort ?? 0,
    destinationIp: socket.localAddress ?? '',
    serverName: insp?.sni ?? '',
    transportProtocol: insp?.tls ? 'tls' : 'raw_buffer',
    applicationProtocols: insp?.protocols ?? [],
    sourceIp: socket.remoteAddress ?? '',
    sourcePort: socket.remotePort ?? 0,
  };
}

/** Selects the chain for a connection among `chains` (by their match), or null when none applies. */
export function selectChain<T extends { readonly match: FilterChainMatch }>(
  chains: readonly T[],
  f: ConnectionFacts,
): T | null {
  const dst = parseAddr(f.destinationIp);
  const src = parseAddr(f.sourceIp);
  let cand: readonly T[] = chains;
  for (let step = 0; step < STEPS && cand.length > 1; step++) cand = best(cand, step, f, dst, src);
  if (cand.length === 0) return null;
  // A single survivor still has to match every step.
  const c = cand[0];
  for (let step = 0; step < STEPS; step++) if (c.match.score(step, f, dst, src) < 0) return null;
  return c;
}

function best<T extends { readonly match: FilterChainMatch }>(
  cand: readonly T[],
  step: number,
  f: ConnectionFacts,
  dst: Addr | null,
  src: Addr | null,
): T[] {
  let top = -1;
  let out: T[] = [];
  for (const c of cand) {
    const s = c.match.score(step, f, dst, src);
    if (s < 0 || s < top) continue;
    if (s > top) {
      top = s;
      out = [];
    }
    out.push(c);
  }
  return out;
}

function serverNameScore(names: readonly string[], sni: string): number {
  if (names.length === 0) return 0;
  if (sni === '') return -1;
  let score = -1;
  for (const n of names) {
    if (n === sni) return 100_000;
    // `*.example.com` (and Envoy's older `.example.com`) match any deeper name; longer suffix wins.
    const suffix = n.startsWith('*.') ? n.slice(1) : n.startsWith('.') ? n : null;
    if (suffix !== null && sni.length > suffix.length && sni.endsWith(suffix))
      score = Math.max(score, suffix.length);
  }
  return score;
}

function sourceTypeScore(type: string, f: ConnectionFacts): number {
  if (type === 'ANY' || type === '') return 0;
  const local = f.sourceIp === f.destinationIp || isLoopback(f.sourceIp);
  if (type === 'SAME_IP_OR_LOOPBACK') return local ? 1 : -1;
  return local ? -1 : 1;
}

function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1' || ip.startsWith('::ffff:127.');
}

/** A parsed IP address. */
export interface Addr {
  readonly v6: boolean;
  readonly bits: bigint;
}

/** Parses an IPv4/IPv6 address (IPv4-mapped IPv6 becomes IPv4); null when not an IP. */
export function parseAddr(ip: string): Addr | null {
  if (ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4) ip = ip.slice(7);
  const fam = isIP(ip);
  if (fam === 4) {
    let v = 0n;
    for (const p of ip.split('.')) v = (v << 8n) | BigInt(Number(p));
    return { v6: false, bits: v };
  }
  if (fam === 6) {
    const [head, tail = ''] = ip.split('::');
    const h = head ? head.split(':') : [];
    const t = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
    const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
    let v = 0n;
    for (const g of groups) v = (v << 16n) | BigInt(parseInt(g || '0', 16));
    return { v6: true, bits: v };
  }
  return null;
}

function cidrs(list: readonly CidrRangeMessage[] | undefined, field: string): Cidr[] {
  return (list ?? []).map((r) => {
    const a = parseAddr(r.addressPrefix ?? '');
    if (!a) throw new Error(`filterChainMatch.${field}: "${r.addressPrefix}" is not an IP address`);
    const max = a.v6 ? 128 : 32;
    // Envoy's CidrRange: an absent prefix_len is 0 (the range matches every address of its family);
    // a zero UInt32Value is `{}` in canonical form.
    const len = u32(r.prefixLen, 0);
    if (!(Number.isInteger(len) && len >= 0 && len <= max))
      throw new Error(`filterChainMatch.${field}: bad prefix length ${len}`);
    return { v6: a.v6, bits: a.bits >> BigInt(max - len), len };
  });
}

function cidrScore(ranges: readonly Cidr[], a: Addr | null): number {
  if (ranges.length === 0) return 0;
  if (!a) return -1;
  let score = -1;
  for (const r of ranges) {
    if (r.v6 !== a.v6) continue;
    const max = a.v6 ? 128 : 32;
    if (a.bits >> BigInt(max - r.len) === r.bits) score = Math.max(score, r.len + 1);
  }
  return score;
}
