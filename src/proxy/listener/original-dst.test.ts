import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConntrackReader, findOriginalDst, parseConntrackEvent } from './original-dst.js';

const TABLE =
  'ipv4     2 udp      17 24 src=198.18.1.5 dst=198.18.0.1 sport=55134 dport=53 src=198.18.0.1 dst=198.18.1.5 sport=53 dport=55134 mark=0 zone=0 use=2\n' +
  'ipv4     2 tcp      6 431999 ESTABLISHED src=198.18.1.5 dst=10.96.3.4 sport=36090 dport=9080 src=127.0.0.1 dst=198.18.1.5 sport=15001 dport=36090 [ASSURED] mark=0 zone=0 use=2\n' +
  'ipv4     2 tcp      6 431999 ESTABLISHED src=198.18.1.9 dst=198.18.1.5 sport=40000 dport=80 src=198.18.1.5 dst=198.18.1.9 sport=15006 dport=40000 [ASSURED] mark=0 zone=0 use=2\n';

describe('original destination from conntrack', () => {
  it('finds outbound (OUTPUT REDIRECT) and inbound (PREROUTING REDIRECT) connections by their reply tuple', () => {
    const out = findOriginalDst(
      TABLE,
      { ip: '127.0.0.1', port: 15001 },
      { ip: '::ffff:198.18.1.5', port: 36090 },
    );
    assert.deepEqual(out, { ip: '10.96.3.4', port: 9080 });
    const inb = findOriginalDst(TABLE, { ip: '198.18.1.5', port: 15006 }, { ip: '198.18.1.9', port: 40000 });
    assert.deepEqual(inb, { ip: '198.18.1.5', port: 80 });
    assert.equal(
      findOriginalDst(TABLE, { ip: '127.0.0.1', port: 15001 }, { ip: '198.18.1.5', port: 3609 }),
      null,
    );
  });

  it('parses conntrack -E NEW events into the proxy-side key and the original destination', () => {
    const e = parseConntrackEvent(
      '    [NEW] tcp      6 120 SYN_SENT src=198.18.1.5 dst=10.96.77.7 sport=48998 dport=9000 [UNREPLIED] src=127.0.0.1 dst=198.18.1.5 sport=15001 dport=48998',
    );
    assert.deepEqual(e, ['127.0.0.1:15001>198.18.1.5:48998', { ip: '10.96.77.7', port: 9000 }]);
    assert.equal(
      parseConntrackEvent('conntrack v1.4.7 (conntrack-tools): 1 flow events have been shown.'),
      null,
    );
  });

  it('a burst of lookups shares table reads; an unreadable table answers null', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mz-ct-'));
    try {
      const file = join(dir, 'nf_conntrack');
      writeFileSync(file, TABLE);
      const reader = new ConntrackReader(file);
      const got = await Promise.all(
        Array.from(
          { length: 5 },
          () =>
            new Promise((r) =>
              reader.lookup({ ip: '127.0.0.1', port: 15001 }, { ip: '198.18.1.5', port: 36090 }, r),
            ),
        ),
      );
      for (const g of got) assert.deepEqual(g, { ip: '10.96.3.4', port: 9080 });
      const missing = new ConntrackReader(join(dir, 'absent'));
      const none = await new Promise((r) =>
        missing.lookup({ ip: '1.1.1.1', port: 1 }, { ip: '2.2.2.2', port: 2 }, r),
      );
      assert.equal(none, null);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
