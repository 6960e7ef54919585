// Valid and invalid Secret, ConfigMap and ServiceAccount documents.
import { runTable, type Case } from '../../test-util.js';

const secret = (body: string): string => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n${body}`;
const cm = (body: string): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio\n  namespace: istio-system\n${body}`;

const secrets: Case[] = [
  {
    name: 'Opaque secret with data and stringData',
    yaml: secret(
      'type: Opaque\ndata:\n  username: YWRtaW4=\n  password: MWYyZDFlMmU2N2Rm\nstringData:\n  note: plain text\n',
    ),
  },
  {
    name: 'TLS secret for a gateway credentialName, base64 folded over lines',
    yaml: secret(
      'type: kubernetes.io/tls\ndata:\n  tls.crt: |\n    LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t\n    Cg==\n  tls.key: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCg==\n',
    ),
  },
  {
    name: 'value that is not base64',
    yaml: secret('data:\n  password: hunter2!\n'),
    errors: [{ path: 'data.password', message: /must be base64-encoded.*stringData/ }],
  },
  {
    name: 'base64 without padding',
    yaml: secret('data:\n  a: YWRtaW4\n'),
    errors: [{ path: 'data.a', message: /base64/ }],
  },
  {
    name: 'TLS secret without a key',
    yaml: secret('type: kubernetes.io/tls\ndata:\n  tls.crt: YQ==\n'),
    errors: [{ path: 'data', message: /needs key tls.key/ }],
  },
  {
    name: 'key with a slash',
    yaml: secret('stringData:\n  a/b: x\n'),
    errors: [{ path: 'stringData["a/b"]', message: /invalid key "a\/b"/ }],
  },
  {
    name: 'stringdata in lower case',
    yaml: secret('stringdata:\n  a: x\n'),
    errors: [{ path: 'stringdata', message: /did you mean "stringData"/ }],
  },
];

const configMaps: Case[] = [
  {
    name: 'mesh config',
    yaml: cm(
      'data:\n  mesh: |-\n    accessLogFile: /dev/stdout\n    defaultConfig:\n      discoveryAddress: istiod.istio-system.svc:15012\n',
    ),
  },
  { name: 'binaryData', yaml: cm('binaryData:\n  logo.png: iVBORw0KGgo=\nimmutable: true\n') },
  {
    name: 'unquoted number value',
    yaml: cm('data:\n  port: 8080\n'),
    errors: [{ path: 'data.port', message: /must be a string, got number 8080/ }],
  },
  {
    name: 'key in both data and binaryData',
    yaml: cm('data:\n  a: x\nbinaryData:\n  a: eA==\n'),
    errors: [{ path: 'binaryData.a', message: /also in data/ }],
  },
  {
    name: 'binaryData that is not base64',
    yaml: cm('binaryData:\n  a: "not base64"\n'),
    errors: [{ path: 'binaryData.a', message: /base64/ }],
  },
];

const sa = (body: string): string =>
  `apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: bookinfo-reviews\n${body}`;

const serviceAccounts: Case[] = [
  { name: 'bookinfo service account', yaml: sa('') },
  {
    name: 'image pull secrets and token automount',
    yaml: sa('automountServiceAccountToken: false\nimagePullSecrets:\n- name: regcred\n'),
  },
  {
    name: 'automountServiceAccountToken as a string',
    yaml: sa('automountServiceAccountToken: "false"\n'),
    errors: [{ path: 'automountServiceAccountToken', message: /must be true or false/ }],
  },
  {
    name: 'spec is not a ServiceAccount field',
    yaml: sa('spec: {}\n'),
    errors: [{ path: 'spec', message: /unknown field "spec"/ }],
  },
];

runTable('Secret', secrets);
runTable('ConfigMap', configMaps);
runTable('ServiceAccount', serviceAccounts);
