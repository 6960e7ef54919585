import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CAPTURE_ANNOTATIONS as A, capturePlan, captureRules } from './capture-rules.js';

describe('capture rules (istio-init)', () => {
  it('by default: all inbound TCP to 15006 but the proxy ports, all outbound to 15001 but gid 1337', () => {
    const { plan, notes } = capturePlan({});
    assert.deepEqual(notes, []);
    const r = captureRules(plan);
    assert.match(r, /^-A PREROUTING -p tcp -j ISTIO_INBOUND$/m);
    for (const p of [15000, 15008, 15020, 15021, 15090])
      assert.match(r, new RegExp(`^-A ISTIO_INBOUND -p tcp --dport ${p} -j RETURN$`, 'm'));
    assert.match(r, /^-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT$/m);
    assert.match(r, /^-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006$/m);
    assert.match(r, /^-A ISTIO_OUTPUT -m owner --gid-owner 1337 -j RETURN$/m);
    assert.match(r, /^-A ISTIO_OUTPUT -j ISTIO_REDIRECT$/m);
    assert.match(r, /^-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001$/m);
    assert.ok(r.trimEnd().endsWith('COMMIT'));
    // The proxy's exclusion comes before the catch-all redirect.
    assert.ok(r.indexOf('--gid-owner 1337 -j RETURN') < r.indexOf('-A ISTIO_OUTPUT -j ISTIO_REDIRECT'));
  });

  it("honours Istio's traffic.sidecar.istio.io annotations", () => {
    const { plan, notes } = capturePlan({
      [A.includeInboundPorts]: '9080, 9090',
      [A.excludeInboundPorts]: '9443',
      [A.excludeOutboundPorts]: '5432',
      [A.excludeOutboundIPRanges]: '10.0.0.0/8,192.168.1.1',
      [A.includeOutboundIPRanges]: '10.96.0.0/16',
    });
    assert.deepEqual(notes, []);
    const r = captureRules(plan);
    assert.match(r, /^-A ISTIO_INBOUND -p tcp --dport 9080 -j ISTIO_IN_REDIRECT$/m);
    assert.match(r, /^-A ISTIO_INBOUND -p tcp --dport 9090 -j ISTIO_IN_REDIRECT$/m);
    assert.doesNotMatch(r, /^-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT$/m);
    assert.match(r, /^-A ISTIO_INBOUND -p tcp --dport 9443 -j RETURN$/m);
    assert.match(r, /^-A ISTIO_OUTPUT -p tcp --dport 5432 -j RETURN$/m);
    assert.match(r, /^-A ISTIO_OUTPUT -d 10\.0\.0\.0\/8 -j RETURN$/m);
    assert.match(r, /^-A ISTIO_OUTPUT -d 192\.168\.1\.1\/32 -j RETURN$/m);
    assert.match(r, /^-A ISTIO_OUTPUT -d 10\.96\.0\.0\/16 -j ISTIO_REDIRECT$/m);
    assert.doesNotMatch(r, /^-A ISTIO_OUTPUT -j ISTIO_REDIRECT$/m);
  });

  it('an empty includeInboundPorts captures no inbound traffic', () => {
    const r = captureRules(capturePlan({ [A.includeInboundPorts]: '' }).plan);
    assert.doesNotMatch(r, /PREROUTING -p tcp/);
  });

  it('says which values it ignores', () => {
    const { notes } = capturePlan({
      [A.excludeOutboundPorts]: '80,http,70000',
      [A.excludeOutboundIPRanges]: 'fd00::/8,10.0.0.0/33',
      [A.interceptionMode]: 'TPROXY',
    });
    assert.equal(notes.length, 5, notes.join('\n'));
    assert.ok(notes.some((n) => n.includes('"http" is not a port')));
    assert.ok(notes.some((n) => n.includes('TPROXY')));
  });
});
