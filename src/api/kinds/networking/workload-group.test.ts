// WorkloadEntry and WorkloadGroup validation tables: addresses, ports, templates and readiness probes.
import { runTable, type Case } from '../../test-util.js';

const we = (spec: string): string =>
  `apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: details-svc\nspec:\n${spec}`;
const wg = (spec: string): string =>
  `apiVersion: networking.istio.io/v1\nkind: WorkloadGroup\nmetadata:\n  name: reviews\nspec:\n${spec}`;

const entryCases: Case[] = [
  {
    name: 'VM with IP, labels, service account and port override',
    yaml: we(`  serviceAccount: details-legacy
  address: 2.2.2.2
  labels: {app: details-legacy, instance-id: vm1}
  ports: {http: 8080}
  locality: us-east1/zone-a
  weight: 10
`),
  },
  {
    name: 'DNS name address and unix socket',
    yaml: `${we('  address: vm1.example.com\n')}---\n${we('  address: unix:///var/run/vm.sock\n').replace('details-svc', 'uds')}`,
  },
  {
    name: 'multi-network entry without address',
    yaml: we('  network: vm-network\n  labels: {app: a}\n'),
    warnings: [{ path: 'spec', message: /reached through the gateway of network "vm-network"/ }],
  },
  {
    name: 'address missing',
    yaml: we('  labels: {app: a}\n'),
    errors: [{ path: 'spec.address', message: /is required/ }],
  },
  {
    name: 'address not an IP or DNS name',
    yaml: we('  address: "10.0.0.1:8080"\n'),
    errors: [{ path: 'spec.address', message: /not a valid DNS name or IP address/, line: 6 }],
  },
  {
    name: 'unix socket with ports',
    yaml: we('  address: unix:///var/run/a.sock\n  ports: {http: 80}\n'),
    errors: [{ path: 'spec.ports', message: /must not have ports/ }],
  },
  {
    name: 'port name not a DNS label',
    yaml: we('  address: 1.1.1.1\n  ports: {Http_Port: 80}\n'),
    errors: [{ path: 'spec.ports.Http_Port', message: /invalid port name/ }],
  },
  {
    name: 'port out of range',
    yaml: we('  address: 1.1.1.1\n  ports: {http: 0}\n'),
    errors: [{ path: 'spec.ports.http', message: /between 1 and 65535/ }],
  },
];

const groupCases: Case[] = [
  {
    name: 'VM onboarding group with HTTP probe',
    yaml: wg(`  metadata:
    labels: {app: reviews, version: v1}
    annotations: {owner: team-a}
  template:
    serviceAccount: reviews
    network: vm-network
    ports: {http: 9080}
  probe:
    initialDelaySeconds: 5
    timeoutSeconds: 3
    periodSeconds: 4
    successThreshold: 3
    failureThreshold: 3
    httpGet:
      path: /foo/bar
      host: 127.0.0.1
      port: 3100
      scheme: HTTPS
      httpHeaders: [{name: Lit-Header, value: Im-The-Best}]
`),
  },
  {
    name: 'TCP, exec and gRPC probes',
    yaml: `${wg('  template: {serviceAccount: a}\n  probe: {tcpSocket: {port: 3306}}\n')}---\n${wg(
      '  template: {}\n  probe: {exec: {command: [./healthcheck.sh, --quick]}}\n',
    ).replace(
      'name: reviews',
      'name: b',
    )}---\n${wg('  template: {}\n  probe: {grpc: {port: 9090, service: ready}}\n').replace('name: reviews', 'name: c')}`,
  },
  ...['X_Custom', 'x custom', 'x:y', ''].map((h) => ({
    name: `httpGet probe header name ${JSON.stringify(h)}`,
    yaml: wg(
      `  template: {}\n  probe:\n    httpGet:\n      port: 8080\n      httpHeaders: [{name: "${h}", value: v}]\n`,
    ),
    errors: [
      {
        path: 'spec.probe.httpGet.httpHeaders[0].name',
        message: h ? /is not valid \(letters, digits and "-" only\)/ : /cannot be empty/,
      },
    ],
  })),
  {
    name: 'httpGet probe header without a name',
    yaml: wg('  template: {}\n  probe:\n    httpGet: {port: 8080, httpHeaders: [{value: v}]}\n'),
    errors: [{ path: 'spec.probe.httpGet.httpHeaders[0].name', message: /is required/ }],
  },
  {
    name: 'template missing',
    yaml: wg('  metadata: {labels: {app: a}}\n'),
    errors: [{ path: 'spec.template', message: /is required/ }],
  },
  {
    name: 'probe with two methods',
    yaml: wg('  template: {}\n  probe: {tcpSocket: {port: 1}, exec: {command: [x]}}\n'),
    errors: [{ path: 'spec.probe', message: /only one of httpGet, tcpSocket, exec, grpc/ }],
  },
  {
    name: 'probe without a method',
    yaml: wg('  template: {}\n  probe: {periodSeconds: 5}\n'),
    errors: [{ path: 'spec.probe', message: /one of httpGet, tcpSocket, exec, grpc must be set/ }],
  },
  {
    name: 'exec probe with no command',
    yaml: wg('  template: {}\n  probe: {exec: {command: []}}\n'),
    errors: [{ path: 'spec.probe.exec.command', message: /at least one item/ }],
  },
  {
    name: 'negative probe period and bad scheme',
    yaml: wg('  template: {}\n  probe:\n    periodSeconds: -1\n    httpGet: {port: 80, scheme: ftp}\n'),
    errors: [
      { path: 'spec.probe.periodSeconds', message: /integer between 0/ },
      { path: 'spec.probe.httpGet.scheme', message: /"HTTP" or "HTTPS"/ },
    ],
  },
  {
    name: 'probe port out of range',
    yaml: wg('  template: {}\n  probe: {httpGet: {port: 70000}}\n'),
    errors: [{ path: 'spec.probe.httpGet.port', message: /between 1 and 65535/, line: 7 }],
  },
  {
    name: 'metadata label key invalid',
    yaml: wg('  metadata: {labels: {"-app": a}}\n  template: {}\n'),
    errors: [{ path: 'spec.metadata.labels["-app"]', message: /invalid label key/ }],
  },
  {
    name: 'template address is ignored (warning)',
    yaml: wg('  template: {address: 1.2.3.4, labels: {app: a}}\n'),
    warnings: [
      { path: 'spec.template.address', message: /ignored/ },
      { path: 'spec.template.labels', message: /put labels in metadata.labels/ },
    ],
  },
];

runTable('WorkloadEntry', entryCases);
runTable('WorkloadGroup', groupCases);
