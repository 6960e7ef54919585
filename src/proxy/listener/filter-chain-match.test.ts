// Envoy's filter chain selection: most specific match per criterion in Envoy's order, no backtracking.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { envoy_config_listener_v3_FilterChainMatch as FilterChainMatchMessage } from '../../xds/envoy-types.js';
import { FilterChainMatch, selectChain, type ConnectionFacts } from './filter-chain-match.js';

const chain = (
  name: string,
  m: FilterChainMatchMessage,
  tls = false,
): { name: string; match: FilterChainMatch } => ({
  name,
  match: new FilterChainMatch(m, tls),
});

const facts = (f: Partial<ConnectionFacts>): ConnectionFacts => ({
  destinationPort: 443,
  destinationIp: '10.0.0.1',
  serverName: '',
  transportProtocol: 'raw_buffer',
  applicationProtocols: [],
  sourceIp: '10.1.0.1',
  sourcePort: 40000,
  ...f,
});

const pick = (chains: ReturnType<typeof chain>[], f: Partial<ConnectionFacts>): string =>
  selectChain(chains, facts(f))?.name ?? 'none';

test('SNI: exact beats the longest wildcard, which beats a shorter one; no SNI takes the chain without names', () => {
  const cs = [
    chain('any', {}),
    chain('wild', { serverNames: ['*.example.com'] }),
    chain('deeper', { serverNames: ['*.api.example.com'] }),
    chain('exact', { serverNames: ['v1.api.example.com'] }),
  ];
  const tls = { transportProtocol: 'tls' };
  assert.equal(pick(cs, { ...tls, serverName: 'v1.api.example.com' }), 'exact');
  assert.equal(pick(cs, { ...tls, serverName: 'v2.api.example.com' }), 'deeper');
  assert.equal(pick(cs, { ...tls, serverName: 'www.example.com' }), 'wild');
  assert.equal(pick(cs, { ...tls, serverName: 'example.com' }), 'any');
  assert.equal(pick(cs, {}), 'any');
});

test('destination prefix ranges: longest prefix wins, chains without ranges catch the rest', () => {
  const cs = [
    chain('default', {}),
    chain('net', { prefixRanges: [{ addressPrefix: '10.0.0.0', prefixLen: { value: 8 } }] }),
    chain('host', { prefixRanges: [{ addressPrefix: '10.0.0.1', prefixLen: { value: 32 } }] }),
  ];
  assert.equal(pick(cs, { destinationIp: '10.0.0.1' }), 'host');
  assert.equal(pick(cs, { destinationIp: '::ffff:10.9.9.9' }), 'net');
  assert.equal(pick(cs, { destinationIp: '192.168.1.1' }), 'default');
});

test('no backtracking: the most specific port wins even when it then fails a later criterion', () => {
  const cs = [
    chain('any-port', {}),
    chain('port-443-tls', { destinationPort: { value: 443 }, transportProtocol: 'tls' }),
  ];
  assert.equal(pick(cs, { transportProtocol: 'tls' }), 'port-443-tls');
  assert.equal(pick(cs, { transportProtocol: 'raw_buffer' }), 'none');
  assert.equal(pick(cs, { destinationPort: 80 }), 'any-port');
});

test('TLS-terminating chains never take plaintext; source type, source ranges and ports', () => {
  const cs = [chain('https', {}, true), chain('http', {})];
  assert.equal(pick(cs, {}), 'http');
  assert.equal(pick([chain('https', {}, true)], {}), 'none');
  const src = [
    chain('local', { sourceType: 'SAME_IP_OR_LOOPBACK' }),
    chain('external', { sourceType: 'EXTERNAL', sourcePorts: [40000] }),
  ];
  assert.equal(pick(src, { sourceIp: '127.0.0.1' }), 'local');
  assert.equal(pick(src, {}), 'external');
  assert.equal(pick(src, { sourcePort: 1 }), 'none');
  assert.throws(() => new FilterChainMatch({ prefixRanges: [{ addressPrefix: 'nope' }] }), /not an IP/);
});

test('a zero prefix length in canonical form ({}: 0.0.0.0/0) matches every address of the family', () => {
  // pilot's destinationSubnets "0.0.0.0/0" arrives so; it used to be refused as "bad prefix length NaN".
  const cs = [chain('all', { prefixRanges: [{ addressPrefix: '0.0.0.0', prefixLen: {} }] })];
  assert.equal(pick(cs, { destinationIp: '192.168.7.9' }), 'all');
  assert.equal(pick(cs, { destinationIp: '::1' }), 'none');
});

test('an absent prefix length is 0, as in Envoy: the range matches every address of its family', () => {
  const cs = [
    chain('all', { prefixRanges: [{ addressPrefix: '10.1.2.3' }] }),
    chain('host', { prefixRanges: [{ addressPrefix: '10.1.2.3', prefixLen: { value: 32 } }] }),
  ];
  assert.equal(pick(cs, { destinationIp: '192.168.7.9' }), 'all');
  assert.equal(pick(cs, { destinationIp: '10.1.2.3' }), 'host');
});
