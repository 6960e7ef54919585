// Valid and invalid Service and Namespace documents.
import { runTable, type Case } from '../../test-util.js';

const svc = (spec: string): string =>
  `apiVersion: v1\nkind: Service\nmetadata:\n  name: reviews\n  labels:\n    app: reviews\nspec:\n${spec}`;

const services: Case[] = [
  {
    name: 'bookinfo reviews service',
    yaml: svc('  ports:\n  - port: 9080\n    name: http\n  selector:\n    app: reviews\n'),
  },
  {
    name: 'several named ports with appProtocol and a named targetPort',
    yaml: svc(
      '  ports:\n  - name: http-web\n    port: 80\n    targetPort: web\n  - name: grpc\n    port: 9090\n    targetPort: 9090\n    appProtocol: kubernetes.io/h2c\n  - name: dns\n    port: 53\n    protocol: UDP\n  selector:\n    app: reviews\n',
    ),
  },
  {
    name: 'NodePort with externalTrafficPolicy',
    yaml: svc(
      '  type: NodePort\n  externalTrafficPolicy: Local\n  ports:\n  - port: 80\n    nodePort: 30080\n',
    ),
  },
  {
    name: 'LoadBalancer ingress gateway service with status',
    yaml: `apiVersion: v1
kind: Service
metadata:
  name: istio-ingressgateway
  namespace: istio-system
spec:
  type: LoadBalancer
  selector:
    istio: ingressgateway
  ports:
  - name: status-port
    port: 15021
    targetPort: 15021
  - name: http2
    port: 80
    targetPort: 8080
  - name: https
    port: 443
    targetPort: 8443
  loadBalancerSourceRanges: ["10.0.0.0/8"]
status:
  loadBalancer:
    ingress:
    - ip: 203.0.113.10
`,
  },
  { name: 'headless service without ports', yaml: svc('  clusterIP: None\n  selector:\n    app: reviews\n') },
  { name: 'ExternalName', yaml: svc('  type: ExternalName\n  externalName: api.example.com\n') },
  {
    name: 'ClientIP session affinity with a timeout',
    yaml: svc(
      '  ports:\n  - port: 80\n  sessionAffinity: ClientIP\n  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: 600\n',
    ),
  },
  {
    name: 'selectr is a typo with a suggestion',
    yaml: svc('  ports:\n  - port: 9080\n  selectr:\n    app: reviews\n'),
    errors: [{ path: 'spec.selectr', message: /unknown field "selectr"; did you mean "selector"/, line: 10 }],
  },
  {
    name: 'targetport in the wrong case',
    yaml: svc('  ports:\n  - port: 9080\n    targetport: 9080\n'),
    errors: [{ path: 'spec.ports[0].targetport', message: /did you mean "targetPort"/ }],
  },
  {
    name: 'port is required',
    yaml: svc('  ports:\n  - name: http\n    targetPort: 9080\n'),
    errors: [{ path: 'spec.ports[0].port', message: /is required/ }],
  },
  {
    name: 'port out of range',
    yaml: svc('  ports:\n  - port: 90800\n'),
    errors: [{ path: 'spec.ports[0].port', message: /between 1 and 65535/ }],
  },
  {
    name: 'port written as a string',
    yaml: svc('  ports:\n  - port: "9080"\n'),
    errors: [
      { path: 'spec.ports[0].port', message: /must be an integer between 1 and 65535, got string "9080"/ },
    ],
  },
  {
    name: 'ports are required for a ClusterIP service',
    yaml: svc('  selector:\n    app: reviews\n'),
    errors: [{ path: 'spec.ports', message: /is required/ }],
  },
  {
    name: 'second port without a name',
    yaml: svc('  ports:\n  - port: 80\n    name: http\n  - port: 443\n'),
    errors: [{ path: 'spec.ports[1].name', message: /required when there is more than one port/ }],
  },
  {
    name: 'duplicate port names',
    yaml: svc('  ports:\n  - port: 80\n    name: http\n  - port: 8080\n    name: http\n'),
    errors: [{ path: 'spec.ports[1].name', message: /duplicate port name "http"/ }],
  },
  {
    name: 'duplicate port numbers',
    yaml: svc('  ports:\n  - port: 80\n    name: a\n  - port: 80\n    name: b\n'),
    errors: [{ path: 'spec.ports[1].port', message: /duplicate port 80\/TCP/ }],
  },
  {
    name: 'port name with upper case',
    yaml: svc('  ports:\n  - port: 80\n    name: HTTP\n'),
    errors: [{ path: 'spec.ports[0].name', message: /DNS-1123 label/ }],
  },
  {
    name: 'named targetPort longer than 15 characters',
    yaml: svc('  ports:\n  - port: 80\n    targetPort: http-web-frontend\n'),
    errors: [{ path: 'spec.ports[0].targetPort', message: /IANA_SVC_NAME/ }],
  },
  {
    name: 'quoted numeric targetPort',
    yaml: svc('  ports:\n  - port: 80\n    targetPort: "8080"\n'),
    errors: [{ path: 'spec.ports[0].targetPort', message: /write the number without quotes/ }],
  },
  {
    name: 'unknown protocol',
    yaml: svc('  ports:\n  - port: 80\n    protocol: HTTP\n'),
    errors: [{ path: 'spec.ports[0].protocol', message: /must be one of TCP, UDP, SCTP/ }],
  },
  {
    name: 'unknown type with a suggestion',
    yaml: svc('  type: Clusterip\n  ports:\n  - port: 80\n'),
    errors: [{ path: 'spec.type', message: /did you mean "ClusterIP"/ }],
  },
  {
    name: 'nodePort on a ClusterIP service',
    yaml: svc('  ports:\n  - port: 80\n    nodePort: 30080\n'),
    errors: [{ path: 'spec.ports[0].nodePort', message: /only be set for type NodePort or LoadBalancer/ }],
  },
  {
    name: 'ExternalName without externalName',
    yaml: svc('  type: ExternalName\n'),
    errors: [{ path: 'spec.externalName', message: /is required for type ExternalName/ }],
  },
  {
    name: 'clusterIP that is not an IP',
    yaml: svc('  clusterIP: 10.0.0\n  ports:\n  - port: 80\n'),
    errors: [{ path: 'spec.clusterIP', message: /IP address, "None"/ }],
  },
  {
    name: 'selector label value with a space',
    yaml: svc('  ports:\n  - port: 80\n  selector:\n    app: my app\n'),
    errors: [{ path: 'spec.selector.app', message: /invalid label value/ }],
  },
  {
    name: 'spec is required',
    yaml: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n',
    errors: [{ path: 'spec', message: /is required/ }],
  },
];

const ns = (meta: string): string => `apiVersion: v1\nkind: Namespace\nmetadata:\n${meta}`;

const namespaces: Case[] = [
  { name: 'injection enabled', yaml: ns('  name: bookinfo\n  labels:\n    istio-injection: enabled\n') },
  { name: 'revision label', yaml: ns('  name: foo\n  labels:\n    istio.io/rev: 1-24-0\n') },
  {
    name: 'namespace name with a dot',
    yaml: ns('  name: my.ns\n'),
    errors: [{ path: 'metadata.name', message: /namespace name must be a DNS-1123 label/ }],
  },
  {
    name: 'unknown top-level field',
    yaml: ns('  name: foo\nspc: {}\n'),
    errors: [{ path: 'spc', message: /did you mean "spec"/ }],
  },
  {
    name: 'istio-injection with another value warns',
    yaml: ns('  name: foo\n  labels:\n    istio-injection: "true"\n'),
    warnings: [
      { path: 'metadata.labels["istio-injection"]', message: /only acted on when "enabled" or "disabled"/ },
    ],
  },
  {
    name: 'a namespace on a Namespace warns',
    yaml: ns('  name: foo\n  namespace: bar\n'),
    warnings: [{ path: 'metadata', message: /cluster-scoped/ }],
  },
];

runTable('Service', services);
runTable('Namespace', namespaces);
