// Runs the real `mizzen analyze` on fixture folders and checks findings, formats and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'bin/mizzen.js');

function mizzen(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', input });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const P = 'test/fixtures/analyze/problems';

test('analyze reports each cross-resource problem at its field, istioctl-style, and exits 1', () => {
  const r = mizzen(['analyze', '-f', P]);
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  const expected = [
    `${P}/mesh.yaml:10:13: Info [IST0118] (Service default/reviews) spec.ports[0].name: Port name web (port: 9080, targetPort: 9080) doesn't follow the naming convention of Istio port; name it "<protocol>[-<suffix>]" (http-, http2-, grpc-, tcp-, tls-, ...) or set appProtocol.`,
    `${P}/routing.yaml:11:7: Error [IST0101] (VirtualService default/reviews) spec.gateways[1]: Referenced gateway not found: "reviews-gateway"`,
    `${P}/routing.yaml:16:21: Error [IST0101] (VirtualService default/reviews) spec.http[0].route[0].destination.subset: Referenced host+subset in destinationrule not found: "reviews+v2"; defined subsets: v1, v3`,
    `${P}/routing.yaml:17:7: Warning [IST0130] (VirtualService default/reviews) spec.http[1]: VirtualService rule #1 not used (rule #0 before it matches every request; rules are tried in order and the first match wins).`,
    `${P}/routing.yaml:22:19: Error [IST0101] (VirtualService default/reviews) spec.http[1].route[0].destination.host: Referenced host not found: "reviewz"; did you mean "reviews"?`,
    `${P}/routing.yaml:32:13: Error [MZ-MTLS-CONFLICT] (DestinationRule default/reviews) spec.trafficPolicy.tls.mode: sends plaintext (tls.mode DISABLE) to reviews.default.svc.cluster.local port 9080, but PeerAuthentication default/strict requires mutual TLS (STRICT) on Deployment default/reviews-v1: every connection will be refused. Use ISTIO_MUTUAL, or drop tls to let auto mTLS choose.`,
    `${P}/routing.yaml:39:9: Warning [IST0173] (DestinationRule default/reviews) spec.subsets[1].labels: The Subset v3 defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).`,
    `${P}/routing.yaml:48:7: Warning [IST0127] (AuthorizationPolicy default/ratings) spec.selector.matchLabels: No matching workloads for this resource with the following labels: app=ratings (in namespace default)`,
  ];
  for (const e of expected) assert.ok(lines.includes(e), `missing line:\n  ${e}\ngot:\n${r.stdout}`);
  // The schema error in schema.yaml is reported as IST0106, and that Gateway is left out of the analysis.
  assert.ok(
    lines.some((l) =>
      l.startsWith(
        `${P}/schema.yaml:14:7: Error [IST0106] (Gateway default/reviews-gateway) spec.servers[0].host: `,
      ),
    ),
    r.stdout,
  );
  const findings = lines.filter((l) => /^test\//.test(l));
  assert.equal(
    findings.length,
    expected.length + lines.filter((l) => l.includes('[IST0106]')).length,
    r.stdout,
  );
  assert.match(lines[lines.length - 1], /^\d+ errors, 3 warnings, 1 info \(analyzed 6 resources\)$/);
});

test('analyze -o json gives istioctl-like messages with codes, levels and documentation links', () => {
  const r = mizzen(['analyze', '-o', 'json', P]);
  assert.equal(r.status, 1);
  const msgs = JSON.parse(r.stdout) as {
    code: string;
    level: string;
    origin: string | null;
    reference: string;
    path: string;
    message: string;
    documentationUrl?: string;
  }[];
  const host = msgs.find((m) => m.path === 'spec.http[1].route[0].destination.host');
  assert.deepEqual(host && [host.code, host.level, host.origin, host.reference, host.documentationUrl], [
    'IST0101',
    'Error',
    'VirtualService default/reviews',
    `${P}/routing.yaml:22:19`,
    'https://istio.io/latest/docs/reference/config/analysis/ist0101/',
  ]);
  const mtls = msgs.find((m) => m.code === 'MZ-MTLS-CONFLICT');
  assert.ok(mtls && mtls.documentationUrl === undefined);
  assert.deepEqual([...new Set(msgs.map((m) => m.code))].sort(), [
    'IST0101',
    'IST0106',
    'IST0118',
    'IST0127',
    'IST0130',
    'IST0173',
    'MZ-MTLS-CONFLICT',
  ]);
});

test('analyze of a consistent mesh finds nothing and exits 0', () => {
  const r = mizzen(['analyze', '-f', 'test/fixtures/analyze/clean']);
  assert.equal(r.status, 0, r.stdout);
  assert.equal(r.stdout, '✔ No validation issues found when analyzing 5 resources.\n');
});

test('analyze exits 0 when the findings are only warnings, and reads stdin', () => {
  const clean = readFileSync(join(root, 'test/fixtures/analyze/clean/reviews.yaml'), 'utf8');
  const extra =
    'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews-v9\nspec:\n  host: reviews.default.svc.cluster.local\n  subsets:\n    - name: v9\n      labels:\n        version: v9\n';
  const r = mizzen(['analyze', '-f', '-'], `${clean}---\n${extra}`);
  assert.equal(r.status, 0, r.stdout);
  assert.match(
    r.stdout,
    /^-:\d+:9: Warning \[IST0173\] \(DestinationRule default\/reviews-v9\) spec\.subsets\[0\]\.labels: /m,
  );
  assert.match(
    r.stdout,
    /^-:\d+:9: Warning \[MZ-DESTINATION-RULE-MERGE\] \(DestinationRule default\/reviews-v9\) spec\.host: /m,
  );
  assert.match(r.stdout, /^0 errors, 2 warnings, 0 info \(analyzed 6 resources\)$/m);
});

test('analyze: an empty folder has nothing to report; usage errors exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-analyze-'));
  try {
    writeFileSync(join(dir, 'empty.yaml'), '# nothing here\n');
    const r = mizzen(['analyze', dir]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /No validation issues found when analyzing 0 resources/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(mizzen(['analyze']).status, 2);
  assert.equal(mizzen(['analyze', '-o', 'xml', P]).status, 2);
  const help = mizzen(['analyze', '-h']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: mizzen analyze/);
});

/** Mesh config files of one example (Envoy bootstrap files for `mizzen proxy` are not mesh config). */
function meshFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...meshFiles(p));
    else if (/\.ya?ml$/.test(name) && /^kind:/m.test(readFileSync(p, 'utf8'))) out.push(p.slice(root.length));
  }
  return out;
}

test('each example, analyzed as `mizzen up` would run it, has no error-level findings', () => {
  const examples = join(root, 'examples');
  const dirs = readdirSync(examples).filter((d) => statSync(join(examples, d)).isDirectory());
  let analyzed = 0;
  for (const d of dirs) {
    const files = meshFiles(join(examples, d));
    if (files.length === 0) continue;
    analyzed++;
    const r = mizzen(['analyze', ...files]);
    assert.equal(r.status, 0, `examples/${d}:\n${r.stdout}`);
    assert.doesNotMatch(r.stdout, / Error \[/, `examples/${d}`);
  }
  assert.ok(analyzed > 0, 'examples/ holds mesh config');
});
