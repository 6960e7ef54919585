// Valid and invalid Endpoints and EndpointSlice documents.
import { runTable, type Case } from '../../test-util.js';

const ep = (subsets: string): string =>
  `apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: external-db\nsubsets:\n${subsets}`;

const endpoints: Case[] = [
  {
    name: 'hand-written endpoints for a selector-less service',
    yaml: ep(
      '- addresses:\n  - ip: 192.0.2.42\n    hostname: db-0\n    targetRef:\n      kind: Pod\n      name: db-0\n      namespace: default\n  notReadyAddresses:\n  - ip: 192.0.2.43\n  ports:\n  - port: 5432\n    name: tcp-postgres\n    appProtocol: postgresql\n',
    ),
  },
  {
    name: 'IPv6 address, one unnamed port',
    yaml: ep('- addresses:\n  - ip: "2001:db8::1"\n  ports:\n  - port: 80\n'),
  },
  {
    name: 'address that is not an IP',
    yaml: ep('- addresses:\n  - ip: db.example.com\n  ports:\n  - port: 5432\n'),
    errors: [{ path: 'subsets[0].addresses[0].ip', message: /must be an IP address/ }],
  },
  {
    name: 'address without ip',
    yaml: ep('- addresses:\n  - hostname: db\n'),
    errors: [{ path: 'subsets[0].addresses[0].ip', message: /is required/ }],
  },
  {
    name: 'two ports, one without a name',
    yaml: ep('- addresses:\n  - ip: 192.0.2.1\n  ports:\n  - port: 80\n    name: http\n  - port: 443\n'),
    errors: [{ path: 'subsets[0].ports[1].name', message: /required when there is more than one port/ }],
  },
  {
    name: 'subsets misspelt',
    yaml: 'apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: x\nsubset: []\n',
    errors: [{ path: 'subset', message: /did you mean "subsets"/ }],
  },
];

const slice = (body: string, labels = '  labels:\n    kubernetes.io/service-name: reviews\n'): string =>
  `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: reviews-abc\n${labels}${body}`;

const slices: Case[] = [
  {
    name: 'IPv4 slice with conditions, zone and targetRef',
    yaml: slice(`addressType: IPv4
ports:
- name: http
  protocol: TCP
  port: 9080
endpoints:
- addresses:
  - 10.1.2.3
  conditions:
    ready: true
    serving: true
    terminating: false
  hostname: reviews-v1-abc
  nodeName: node-1
  zone: us-west2-a
  targetRef:
    kind: Pod
    name: reviews-v1-abc
    namespace: default
  hints:
    forZones:
    - name: us-west2-a
`),
  },
  {
    name: 'FQDN slice',
    yaml: slice('addressType: FQDN\nendpoints:\n- addresses: [api.example.com]\nports:\n- port: 443\n'),
  },
  {
    name: 'IPv6 address in an IPv4 slice',
    yaml: slice('addressType: IPv4\nendpoints:\n- addresses: ["2001:db8::1"]\n'),
    errors: [{ path: 'endpoints[0].addresses[0]', message: /must be an IPv4 address/ }],
  },
  {
    name: 'addressType is required',
    yaml: slice('endpoints: []\n'),
    errors: [{ path: 'addressType', message: /is required/ }],
  },
  {
    name: 'unknown addressType',
    yaml: slice('addressType: IP\nendpoints: []\n'),
    errors: [{ path: 'addressType', message: /must be one of IPv4, IPv6, FQDN/ }],
  },
  {
    name: 'endpoint without addresses',
    yaml: slice('addressType: IPv4\nendpoints:\n- addresses: []\n'),
    errors: [{ path: 'endpoints[0].addresses', message: /at least one item/ }],
  },
  {
    name: 'ready as a string',
    yaml: slice('addressType: IPv4\nendpoints:\n- addresses: [10.0.0.1]\n  conditions:\n    ready: "true"\n'),
    errors: [{ path: 'endpoints[0].conditions.ready', message: /must be true or false/ }],
  },
  {
    name: 'duplicate port names',
    yaml: slice(
      'addressType: IPv4\nendpoints: []\nports:\n- name: http\n  port: 80\n- name: http\n  port: 81\n',
    ),
    errors: [{ path: 'ports[1].name', message: /duplicate port name/ }],
  },
  {
    name: 'a slice without the service-name label warns',
    yaml: slice('addressType: IPv4\nendpoints: []\n', ''),
    warnings: [{ path: 'metadata', message: /no kubernetes.io\/service-name label/ }],
  },
];

runTable('Endpoints', endpoints);
runTable('EndpointSlice', slices);
