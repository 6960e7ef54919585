// Table tests for unreachable VirtualService rules (IST0130) and ineffective matches (IST0131).
import { unreachableRulesAnalyzer } from './unreachable-rules.js';
import { runAnalyzerTable } from '../test-util.js';

/** A VirtualService whose `http:` list starts on line 9 (tcp/tls: pass the key). */
const vs = (rules: string, key = 'http'): string =>
  `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts:\n    - reviews\n  ${key}:\n${rules}`;

const to = '      route:\n        - destination:\n            host: reviews\n';
const prefix = (p: string, name?: string): string =>
  `    - ${name ? `name: ${name}\n      ` : ''}match:\n        - uri:\n            prefix: ${p}\n${to}`;
const catchAll = `    - route:\n        - destination:\n            host: reviews\n`;

runAnalyzerTable(unreachableRulesAnalyzer, [
  {
    name: 'specific rules then a final catch-all',
    yaml: vs(prefix('/a') + prefix('/b') + catchAll),
    expect: [],
  },
  {
    name: 'a rule after a catch-all rule is unreachable',
    yaml: vs(prefix('/a') + catchAll + prefix('/b', 'late')),
    expect: [
      {
        code: 'IST0130',
        path: 'spec.http[2]',
        line: 18,
        message: /^VirtualService rule "late" not used \(rule #1 before it matches every request; /,
      },
    ],
  },
  {
    name: 'prefix "/" is a catch-all too',
    yaml: vs(prefix('/') + prefix('/b')),
    expect: [{ code: 'IST0130', path: 'spec.http[1]', message: /rule #1 not used \(rule #0 before it/ }],
  },
  {
    name: 'a header condition makes prefix "/" specific',
    yaml: vs(
      `    - match:\n        - uri:\n            prefix: /\n          headers:\n            end-user:\n              exact: jason\n${to}` +
        prefix('/b'),
    ),
    expect: [],
  },
  {
    name: 'a match duplicated from an earlier rule is ineffective',
    yaml: vs(
      prefix('/a') +
        `    - match:\n        - uri:\n            prefix: /b\n        - uri:\n            prefix: /a\n${to}`,
    ),
    expect: [
      {
        code: 'IST0131',
        path: 'spec.http[1].match[1]',
        line: 18,
        message:
          /^VirtualService rule #1 match #1 is not used \(duplicate\/overlapping match in rule #0\)\.$/,
      },
    ],
  },
  {
    name: 'a rule whose every match is duplicated is unreachable',
    yaml: vs(prefix('/a', 'first') + prefix('/a')),
    expect: [
      { code: 'IST0131', path: 'spec.http[1].match[0]', message: /in rule "first"/ },
      { code: 'IST0130', path: 'spec.http[1]', line: 16, message: /all matches used by prior rules/ },
    ],
  },
  {
    name: 'match field order and names do not hide a duplicate',
    yaml: vs(
      `    - match:\n        - name: one\n          uri:\n            exact: /x\n          method:\n            exact: GET\n${to}` +
        `    - match:\n        - method:\n            exact: GET\n          uri:\n            exact: /x\n${to}`,
    ),
    expect: [
      { code: 'IST0131', path: 'spec.http[1].match[0]' },
      { code: 'IST0130', path: 'spec.http[1]' },
    ],
  },
  {
    name: 'a tcp rule after a match-less tcp rule',
    yaml: vs(
      `    - route:\n        - destination:\n            host: reviews\n    - match:\n        - port: 31400\n      route:\n        - destination:\n            host: reviews\n`,
      'tcp',
    ),
    expect: [{ code: 'IST0130', path: 'spec.tcp[1]', line: 12 }],
  },
]);
