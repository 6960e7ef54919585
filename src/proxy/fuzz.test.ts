// Seeded, bounded fuzzing of a running `mizzen proxy` process with HTTP/1.1 and HTTP/2 bytes: mutated
// request heads, bodies and frame sequences on fresh connections. Whatever the bytes, the process must
// not exit and must serve a well-formed request afterwards. Reproduce a failure with
// MIZZEN_FUZZ_SEED=<seed printed in the failure>.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exchange, FrameType, h2Frame, h2Request, hpack, H2_PREFACE, u32 } from './http/hcm/raw-wire.js';
import { get, listenerPort, spawnProxy, startBackend, type Backend, type ProxyChild } from './test-util.js';

const SEED = Number(process.env.MIZZEN_FUZZ_SEED ?? 0x5eed12);
/** Cases per protocol and how many run at once; each waits at most CASE_MS for the proxy. */
const CASES = 200;
const PARALLEL = 30;
const CASE_MS = 150;

/** mulberry32: a small seeded PRNG, so a failing run can be replayed exactly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const int = (r: Rand, n: number): number => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)];

const H1_HEADS = [
  'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
  'POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello',
  'POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  'GET /a/../b?x=1 HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
  'GET / HTTP/1.0\r\n\r\n',
  'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n',
];
const NASTY = [
  '\r',
  '\n',
  '\0',
  ' ',
  ':',
  '%',
  '#',
  '\\',
  '..',
  '\r\n\r\n',
  'Transfer-Encoding: chunked\r\n',
  'Content-Length: 99999999999\r\n',
  'Host: b\r\n',
  '\xff',
];

/** One HTTP/1.1 case: a valid head with random byte flips, insertions, truncation and repetition. */
function h1Case(r: Rand): Buffer {
  let s = pick(r, H1_HEADS);
  const edits = 1 + int(r, 4);
  for (let i = 0; i < edits; i++) {
    const at = int(r, s.length + 1);
    switch (int(r, 5)) {
      case 0:
        s = s.slice(0, at) + pick(r, NASTY) + s.slice(at);
        break;
      case 1:
        s = s.slice(0, at) + String.fromCharCode(int(r, 256)) + s.slice(at + 1);
        break;
      case 2:
        s = s.slice(0, at);
        break;
      case 3:
        s = s.slice(0, at) + 'x-h: v\r\n'.repeat(int(r, 150)) + s.slice(at);
        break;
      default:
        s = s + s.slice(0, at);
    }
  }
  return Buffer.from(s, 'latin1');
}

/** One HTTP/2 case: preface, then a random mix of plausible and garbage frames in one write. */
function h2Case(r: Rand): Buffer {
  const parts: Buffer[] = [
    int(r, 4) === 0 ? H2_PREFACE : h2Request(pick(r, ['GET', 'POST', 'HEAD']), '/', [], int(r, 2) === 0),
  ];
  const frames = 1 + int(r, 8);
  for (let i = 0; i < frames; i++) {
    const id = pick(r, [0, 1, 1, 1, 3, 5, 0x7fffffff, int(r, 100)]);
    const flags = int(r, 256);
    switch (int(r, 10)) {
      case 0:
        parts.push(h2Frame(FrameType.Data, flags & 0x9, id, Buffer.alloc(int(r, 20_000), 97)));
        break;
      case 1:
        parts.push(
          h2Frame(
            FrameType.Headers,
            flags,
            id,
            hpack([
              [':method', 'POST'],
              [':path', pick(r, ['/', '', '/%2e%2e/x', '*'])],
              ['content-length', String(int(r, 10))],
            ]),
          ),
        );
        break;
      case 2:
        parts.push(h2Frame(FrameType.RstStream, 0, id, u32(int(r, 16))));
        break;
      case 3:
        parts.push(
          h2Frame(FrameType.WindowUpdate, 0, id, u32(pick(r, [0, 1, 0x7fffffff, int(r, 0xffffffff)]))),
        );
        break;
      case 4:
        parts.push(
          h2Frame(
            FrameType.Settings,
            flags & 1,
            id,
            Buffer.concat([Buffer.from([0, int(r, 8)]), u32(int(r, 0xffffffff))]),
          ),
        );
        break;
      case 5:
        parts.push(h2Frame(FrameType.Continuation, flags, id, Buffer.from([int(r, 256), int(r, 256)])));
        break;
      case 6:
        parts.push(h2Frame(FrameType.Goaway, 0, id, Buffer.concat([u32(int(r, 10)), u32(int(r, 16))])));
        break;
      case 7:
        parts.push(h2Frame(FrameType.Ping, flags & 1, id, Buffer.alloc(pick(r, [8, 8, 7, 9]))));
        break;
      default: {
        // Garbage: random type, length field that may lie about the payload.
        const payload = Buffer.alloc(int(r, 40), int(r, 256));
        const f = h2Frame(int(r, 256), flags, id, payload);
        if (int(r, 3) === 0) f.writeUIntBE(int(r, 1 << 24), 0, 3);
        parts.push(f);
      }
    }
  }
  return Buffer.concat(parts);
}

describe(`proxy under fuzzed HTTP/1.1 and HTTP/2 input (seed ${SEED})`, () => {
  let dir: string;
  let backend: Backend;
  let proxy: ProxyChild;
  let port: number;
  let stderr = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mizzen-fuzz-'));
    backend = await startBackend('b');
    const bootstrap = {
      static_resources: {
        listeners: [
          {
            name: 'fuzz',
            address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
            filter_chains: [
              {
                filters: [
                  {
                    name: 'envoy.filters.network.http_connection_manager',
                    typed_config: {
                      '@type':
                        'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                      stat_prefix: 'fuzz',
                      normalize_path: true,
                      request_headers_timeout: '1s',
                      upgrade_configs: [{ upgrade_type: 'websocket' }],
                      http_filters: [
                        {
                          name: 'envoy.filters.http.buffer',
                          typed_config: {
                            '@type': 'type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer',
                            max_request_bytes: 65536,
                          },
                        },
                        {
                          name: 'envoy.filters.http.router',
                          typed_config: {
                            '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
                          },
                        },
                      ],
                      route_config: {
                        name: 'r',
                        virtual_hosts: [
                          {
                            name: 'all',
                            domains: ['*'],
                            routes: [
                              {
                                match: { prefix: '/direct' },
                                direct_response: { status: 200, body: { inline_string: 'ok' } },
                              },
                              { match: { prefix: '/' }, route: { cluster: 'b', timeout: '2s' } },
                            ],
                          },
                        ],
                      },
                    },
                  },
                ],
              },
            ],
          },
        ],
        clusters: [
          {
            name: 'b',
            type: 'STATIC',
            connect_timeout: '1s',
            load_assignment: {
              cluster_name: 'b',
              endpoints: [
                {
                  lb_endpoints: [
                    {
                      endpoint: {
                        address: { socket_address: { address: '127.0.0.1', port_value: backend.port } },
                      },
                    },
                  ],
                },
              ],
            },
          },
        ],
      },
    };
    const file = join(dir, 'bootstrap.json');
    writeFileSync(file, JSON.stringify(bootstrap));
    proxy = await spawnProxy(
      ['--bootstrap', file, '--admin-port', '0', '--log-level', 'warning'],
      join(dir, 'ready.json'),
    );
    proxy.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    port = listenerPort(proxy.ports, 'fuzz');
  });

  after(async () => {
    if (proxy.child.exitCode === null) proxy.child.kill('SIGKILL');
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(make: (r: Rand) => Buffer, seed: number): Promise<void> {
    const r = prng(seed);
    const cases = Array.from({ length: CASES }, () => make(r));
    for (let i = 0; i < cases.length; i += PARALLEL) {
      await Promise.all(cases.slice(i, i + PARALLEL).map((c) => exchange(port, c, () => false, CASE_MS)));
      assert.equal(
        proxy.child.exitCode,
        null,
        `proxy exited during cases ${i}..${i + PARALLEL} (seed ${seed}):\n${stderr}`,
      );
    }
    const ok = await get(port, '/direct');
    assert.equal(ok.status, 200, `proxy stopped serving (seed ${seed})`);
    assert.doesNotMatch(stderr, /Unhandled|uncaught|TypeError|RangeError/i, `seed ${seed}`);
  }

  it('survives mutated HTTP/1.1 requests', () => run(h1Case, SEED));
  it('survives random HTTP/2 frame sequences', () => run(h2Case, SEED + 1));
});
