// Runs the real `mizzen validate` on fixture folders, stdin and examples/, checking output and exit codes.
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

const B = 'test/fixtures/broken';

/** Every problem planted in test/fixtures/broken, as `mizzen validate` must print it. */
const EXPECTED = [
  `${B}/bad-regex.yaml:12:20: spec.http[0].match[0].uri.regex: `,
  `${B}/bad-regex.yaml:15:22: spec.http[0].match[1].headers.cookie.regex: `,
  `${B}/comments.yaml:10:5: YAML syntax error: comments start with "#", not "//"`,
  `${B}/durations.yaml:13:16: spec.http[0].timeout: must be a duration such as "1s", "0.5s", "250ms" or "1m30s", got string "5 seconds"`,
  `${B}/durations.yaml:16:24: spec.http[0].retries.perTryTimeout: must be a duration such as "1s", "0.5s", "250ms" or "1m30s", got string "1x"`,
  `${B}/durations.yaml:26:17: spec.trafficPolicy.outlierDetection.interval: duration must be at least 1ms, got 0s`,
  `${B}/durations.yaml:27:25: spec.trafficPolicy.outlierDetection.baseEjectionTime: must be a duration string such as "1s" or "250ms", got number 30`,
  `${B}/missing-hosts.yaml:7:3: spec.hosts: is required`,
  `${B}/missing-hosts.yaml:18:3: spec.host: is required`,
  `${B}/missing-hosts.yaml:31:7: spec.servers[0].hosts: is required`,
  `${B}/tabs.yaml:8:1: YAML syntax error: tab used for indentation; indent with spaces only`,
  `${B}/unknown-fields.yaml:10:7: spec.http[0].rout: unknown field "rout"; did you mean "route"?`,
  `${B}/unknown-fields.yaml:22:7: spec.trafficPolicy.loadBalancer.simpel: unknown field "simpel"; did you mean "simple"?`,
  `${B}/weights.yaml:14:19: spec.http[0].route[0].weight: must be an integer between 0 and 100, got number 87.5`,
  `${B}/weights.yaml:18:19: spec.http[0].route[1].weight: must be an integer between 0 and 100, got number 12.5`,
  `${B}/weights.yaml:23:19: spec.http[1].route[0].weight: must be an integer between 0 and 100, got number -5`,
  `${B}/wrong-types.yaml:7:10: spec.hosts: must be a list, got string "ratings"`,
  `${B}/wrong-types.yaml:12:19: spec.http[0].route[0].weight: must be an integer between 0 and 100, got string "100"`,
  `${B}/wrong-types.yaml:14:19: spec.http[0].retries.attempts: must be an integer between 0 and 2147483647, got string "three"`,
];

test('validate names every planted problem with file:line:col and field path, and exits 1', () => {
  const r = mizzen(['validate', '-f', B]);
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  for (const e of EXPECTED) {
    assert.ok(
      lines.some((l) => l === e || (e.endsWith(': ') && l.startsWith(e) && /RE2/.test(l))),
      `missing line:\n  ${e}\ngot:\n${r.stdout}`,
    );
  }
  assert.match(lines[lines.length - 1], /^1 resource valid, 12 rejected, \d+ errors, 0 warnings$/);
  // Sorted by file, then line and column, so the output reads top to bottom.
  const pos = lines.slice(0, -1).map((l) => /^(.*?):(\d+):(\d+): /.exec(l)!);
  for (let i = 1; i < pos.length; i++) {
    const [a, b] = [pos[i - 1], pos[i]];
    assert.ok(
      a[1] < b[1] || (a[1] === b[1] && (+a[2] < +b[2] || (+a[2] === +b[2] && +a[3] <= +b[3]))),
      `unsorted at ${lines[i]}`,
    );
  }
});

test('validate -o json lists the diagnostics and the valid resources', () => {
  const r = mizzen(['validate', '-o', 'json', '-f', B]);
  assert.equal(r.status, 1);
  const out = JSON.parse(r.stdout) as {
    valid: boolean;
    diagnostics: {
      file: string;
      line: number;
      col: number;
      path: string;
      message: string;
      severity: string;
    }[];
    resources: string[];
    summary: { valid: number; rejected: number };
  };
  assert.equal(out.valid, false);
  assert.deepEqual(out.resources, ['DestinationRule/default/reviews']);
  assert.deepEqual([out.summary.valid, out.summary.rejected], [1, 12]);
  const unknown = out.diagnostics.find((d) => d.path === 'spec.http[0].rout');
  assert.deepEqual(unknown && [unknown.file, unknown.line, unknown.col, unknown.severity], [
    `${B}/unknown-fields.yaml`,
    10,
    7,
    'error',
  ]);
  for (const d of out.diagnostics) assert.ok(d.line >= 1 && d.col >= 1 && d.message.length > 0);
});

test('validate reads stdin for -f - and exits 0 when there are only warnings', () => {
  const doc = readFileSync(join(root, B, 'valid.yaml'), 'utf8');
  const r = mizzen(['validate', '-f', '-'], `${doc}---\n${doc}`);
  assert.equal(r.status, 0, r.stdout);
  assert.match(
    r.stdout,
    /^-:14:1: warning: metadata\.name: DestinationRule default\/reviews is defined more than once/m,
  );
  assert.match(r.stdout, /^1 resource valid, 0 rejected, 0 errors, 1 warning$/m);
});

test('validate: usage errors exit 2, --help exits 0, a missing path is an error', () => {
  const none = mizzen(['validate']);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /no config given/);
  assert.equal(mizzen(['validate', '-o', 'yaml', '-f', B]).status, 2);
  assert.equal(mizzen(['validate', '--frobnicate', B]).status, 2);
  const help = mizzen(['validate', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: mizzen validate/);
  const missing = mizzen(['validate', 'no/such/dir']);
  assert.equal(missing.status, 1);
  assert.match(missing.stdout, /^no\/such\/dir:1:1: no such file or directory/m);
});

/** True for a YAML file that is an Envoy bootstrap (for `mizzen proxy --bootstrap`), not mesh config. */
function isEnvoyBootstrap(text: string): boolean {
  return (
    !/^kind:/m.test(text) &&
    /^(static_resources|staticResources|dynamic_resources|dynamicResources):/m.test(text)
  );
}

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(name) && !isEnvoyBootstrap(readFileSync(p, 'utf8'))) out.push(p);
  }
  return out;
}

test('every mesh config file under examples/ validates (exit 0)', () => {
  const files = yamlFiles(join(root, 'examples')).map((f) => f.slice(root.length));
  assert.ok(files.length > 0, 'examples/ holds YAML');
  const r = mizzen(['validate', ...files]);
  assert.equal(r.status, 0, r.stdout);
  assert.doesNotMatch(r.stdout, /^[^ ]+:\d+:\d+: (?!warning:)/m, 'no errors');
  assert.match(r.stdout, /^\d+ resources valid, 0 rejected, 0 errors, \d+ warnings?$/m);
});

test('validate refuses a file over the size limit without reading it, naming the file, and exits 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-validate-'));
  try {
    const file = join(dir, 'huge.yaml');
    writeFileSync(file, `# ${'x'.repeat(20 * 1024 * 1024)}\n`);
    const r = mizzen(['validate', '-f', file]);
    assert.equal(r.status, 1);
    const lines = (r.stdout + r.stderr).split('\n').filter((l) => l.includes('MiB'));
    assert.deepEqual(lines, [
      `${file}:1:1: file is 20.0 MiB, over the 8.0 MiB limit on a config file; split it into several files`,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
