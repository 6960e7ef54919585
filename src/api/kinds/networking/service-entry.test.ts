// ServiceEntry validation table: hosts, ports, resolution vs endpoints and addresses as Istio checks them.
import { runTable, type Case } from '../../test-util.js';

/** A ServiceEntry document whose spec starts on line 6. */
const se = (spec: string): string =>
  `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: external\nspec:\n${spec}`;

const cases: Case[] = [
  {
    name: 'egress task: httpbin.org over HTTP with DNS resolution',
    yaml: se(`  hosts:
  - httpbin.org
  ports:
  - number: 80
    name: http-port
    protocol: HTTP
  resolution: DNS
  location: MESH_EXTERNAL
`),
  },
  {
    name: 'egress TLS origination: edition.cnn.com on 80 and 443',
    yaml: se(`  hosts: [edition.cnn.com]
  ports:
  - {number: 80, name: http-port, protocol: HTTP, targetPort: 443}
  - {number: 443, name: https-port, protocol: HTTPS}
  resolution: DNS
`),
  },
  {
    name: 'wildcard host with resolution NONE',
    yaml: se(`  hosts: ["*.wikipedia.org"]
  ports: [{number: 443, name: https, protocol: TLS}]
  resolution: NONE
`),
  },
  {
    name: 'STATIC endpoints with IPs, labels and port overrides; CIDR address',
    yaml: se(`  hosts: [mymongodb.somedomain]
  addresses: [192.192.192.192/24]
  ports: [{number: 27018, name: mongo, protocol: MONGO}]
  location: MESH_INTERNAL
  resolution: STATIC
  endpoints:
  - address: 2.2.2.2
  - address: 3.3.3.3
    labels: {version: v2}
    ports: {mongo: 27019}
`),
  },
  {
    name: 'DNS endpoints by name, exportTo "~" and "."-free list',
    yaml: se(`  hosts: [foo.bar.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
  endpoints:
  - address: us.foo.bar.com
    ports: {http: 8080}
  - address: uk.foo.bar.com
  exportTo: ["~"]
`),
  },
  {
    name: 'MESH_INTERNAL selecting VMs by workloadSelector, unix socket endpoint',
    yaml: `${se(`  hosts: [details.bookinfo.com]
  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8080}]
  location: MESH_INTERNAL
  resolution: STATIC
  workloadSelector: {labels: {app: details-legacy}}
`)}---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: unix}
spec:
  hosts: [uds.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: "unix:///var/run/example/socket"}]
`,
  },
  // ---- invalid ----
  {
    name: 'no hosts',
    yaml: se('  ports: [{number: 80, name: http, protocol: HTTP}]\n'),
    errors: [{ path: 'spec.hosts', message: /is required/ }],
  },
  {
    name: 'host "*"',
    yaml: se('  hosts: ["*"]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n'),
    errors: [{ path: 'spec.hosts[0]', message: /"\*" is not allowed/, line: 6 }],
  },
  {
    name: 'duplicate port numbers and names',
    yaml: se(`  hosts: [a.example.com]
  ports:
  - {number: 80, name: http, protocol: HTTP}
  - {number: 80, name: http, protocol: HTTP}
`),
    errors: [
      { path: 'spec.ports[1].name', message: /port name "http" is already defined/ },
      { path: 'spec.ports[1].number', message: /port 80 is already defined/ },
    ],
  },
  {
    name: 'port without name',
    yaml: se('  hosts: [a.example.com]\n  ports: [{number: 80, protocol: HTTP}]\n'),
    errors: [{ path: 'spec.ports[0].name', message: /is required/ }],
  },
  {
    name: 'port name with upper case',
    yaml: se('  hosts: [a.example.com]\n  ports: [{number: 80, name: HTTP, protocol: HTTP}]\n'),
    errors: [{ path: 'spec.ports[0].name', message: /invalid port name "HTTP"/ }],
  },
  {
    name: 'unknown port protocol',
    yaml: se('  hosts: [a.example.com]\n  ports: [{number: 80, name: http, protocol: HTTPX}]\n'),
    errors: [{ path: 'spec.ports[0].protocol', message: /unsupported protocol/ }],
  },
  {
    name: 'endpoints with resolution NONE',
    yaml: se(
      '  hosts: [a.example.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  endpoints: [{address: 1.1.1.1}]\n',
    ),
    errors: [{ path: 'spec.endpoints', message: /no endpoints may be given with resolution NONE/ }],
  },
  {
    name: 'STATIC endpoint given as a DNS name',
    yaml: se(`  hosts: [a.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: backend.example.com}]
`),
    errors: [{ path: 'spec.endpoints[0].address', message: /not a valid IP address .*STATIC/, line: 9 }],
  },
  {
    name: 'endpoint port not declared by the ServiceEntry',
    yaml: se(`  hosts: [a.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: 1.1.1.1, ports: {grpc: 9090}}]
`),
    errors: [{ path: 'spec.endpoints[0].ports.grpc', message: /not a port name of the ServiceEntry/ }],
  },
  {
    name: 'DNS resolution with a wildcard host and no endpoints',
    yaml: se(
      '  hosts: ["*.example.com"]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: DNS\n',
    ),
    errors: [{ path: 'spec.hosts[0]', message: /without wildcard when resolution is DNS/ }],
  },
  {
    name: 'DNS_ROUND_ROBIN with two endpoints',
    yaml: se(`  hosts: [a.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS_ROUND_ROBIN
  endpoints: [{address: a1.example.com}, {address: a2.example.com}]
`),
    errors: [{ path: 'spec.endpoints', message: /at most one endpoint/ }],
  },
  {
    name: 'CIDR address with DNS resolution',
    yaml: se(
      '  hosts: [a.example.com]\n  addresses: [10.0.0.0/8]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: DNS\n',
    ),
    errors: [
      { path: 'spec.addresses', message: /CIDR addresses are allowed only with resolution NONE or STATIC/ },
    ],
  },
  {
    name: 'address not an IP',
    yaml: se('  hosts: [a.example.com]\n  addresses: [my-vip]\n'),
    errors: [{ path: 'spec.addresses[0]', message: /IP address or CIDR/ }],
  },
  {
    name: 'several hosts with a TCP port under DNS resolution',
    yaml: se(
      '  hosts: [a.example.com, b.example.com]\n  ports: [{number: 3306, name: tcp, protocol: TCP}]\n  resolution: DNS\n',
    ),
    errors: [{ path: 'spec.hosts', message: /several hosts with non-HTTP, non-TLS ports/ }],
  },
  {
    name: 'workloadSelector together with endpoints',
    yaml: se(`  hosts: [a.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  workloadSelector: {labels: {app: a}}
  endpoints: [{address: 1.1.1.1}]
`),
    errors: [{ path: 'spec.endpoints', message: /only one of workloadSelector and endpoints/ }],
  },
  {
    name: 'unknown resolution',
    yaml: se('  hosts: [a.example.com]\n  resolution: DYNAMIC\n'),
    errors: [{ path: 'spec.resolution', message: /must be one of NONE, STATIC, DNS, DNS_ROUND_ROBIN/ }],
  },
  {
    name: 'unix endpoint with ports',
    yaml: se(`  hosts: [a.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: "unix:///var/run/s.sock", ports: {http: 80}}]
`),
    errors: [{ path: 'spec.endpoints[0].ports', message: /must not have ports/ }],
  },
  {
    name: 'DNS endpoints must be DNS names or IPs: a unix socket, an underscore, a port are refused',
    yaml: se(`  hosts: [a.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
  endpoints:
  - address: "unix:///var/run/s.sock"
  - address: foo_bar.example.com
  - address: "10.0.0.1:80"
  - address: backend.example.com
`),
    errors: [
      { path: 'spec.endpoints[0].address', message: /not a valid DNS name or IP address \(resolution DNS\)/ },
      { path: 'spec.endpoints[1].address', message: /not a valid DNS name or IP address/ },
      { path: 'spec.endpoints[2].address', message: /not a valid DNS name or IP address/ },
    ],
  },
  {
    name: 'exportTo "~" with another namespace',
    yaml: se('  hosts: [a.example.com]\n  exportTo: ["~", default]\n'),
    errors: [{ path: 'spec.exportTo', message: /nobody \(~\) and someone/ }],
  },
  // ---- warnings ----
  {
    name: 'partial wildcard host and targetPort with resolution NONE warn',
    yaml: se(`  hosts: ["*foo.example.com"]
  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8080}]
`),
    warnings: [
      { path: 'spec.hosts[0]', message: /partial wildcard/ },
      { path: 'spec.ports[0].targetPort', message: /no effect when resolution is NONE/ },
    ],
  },
  {
    name: 'workloadSelector with DNS resolution warns',
    yaml: se(`  hosts: [a.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
  workloadSelector: {labels: {app: a}}
`),
    warnings: [{ path: 'spec.workloadSelector', message: /should not be set when resolution is DNS/ }],
  },
];

runTable('ServiceEntry', cases);
