// `mizzen install` manifests: CRDs, the control plane (ServiceAccount, RBAC, Deployment, Service),
// the admission webhook configurations and the ingress gateway, as Istio names them.
import { istioCrds } from './crds.js';
import { CONTROL_PLANE_SERVICE as ISTIOD, WEBHOOK_PORT, XDS_PORT } from './defaults.js';

/** What to install. */
export interface InstallOptions {
  /** Namespace of the control plane and gateway (default istio-system). */
  readonly namespace: string;
  /** Image of the control plane, sidecars and gateway. */
  readonly image: string;
  /**
   * etcd client URLs for `mizzen server --etcd`; absent: `mizzen server --kubernetes` (config from the
   * Kubernetes API, as istiod).
   */
  readonly etcd?: string;
  /** Control plane replicas (several share one config source; proxies fail over between them). */
  readonly replicas: number;
  /** PEM CA bundle of the webhook certificate, for the webhook configurations; '' leaves it for the user to fill. */
  readonly caBundle: string;
}

const LABELS = { app: 'istiod', istio: 'pilot', 'app.kubernetes.io/part-of': 'mizzen' };
/** The Istio API groups whose resources the validating webhook checks. */
const ISTIO_GROUPS = [
  'networking.istio.io',
  'security.istio.io',
  'telemetry.istio.io',
  'extensions.istio.io',
];

/** Every manifest, in apply order. */
export function installManifests(o: InstallOptions): Record<string, unknown>[] {
  const ns = o.namespace;
  // One Service in front of every replica: a proxy whose replica goes away reconnects through it to another.
  const xds = `${ISTIOD}.${ns}.svc:${XDS_PORT}`;
  const meta = (name: string, labels: Record<string, string> = LABELS) => ({ name, namespace: ns, labels });
  const clientConfig = (path: string) => ({
    service: { name: ISTIOD, namespace: ns, path, port: 443 },
    ...(o.caBundle ? { caBundle: Buffer.from(o.caBundle).toString('base64') } : {}),
  });
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { 'istio-injection': 'disabled' } },
    },
    ...istioCrds(),
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(ISTIOD) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: `${ISTIOD}-${ns}`, labels: LABELS },
      rules: [
        { apiGroups: ISTIO_GROUPS, resources: ['*'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ISTIO_GROUPS, resources: ['*/status'], verbs: ['get', 'update', 'patch'] },
        {
          apiGroups: [''],
          resources: [
            'services',
            'endpoints',
            'pods',
            'nodes',
            'namespaces',
            'serviceaccounts',
            'configmaps',
            'secrets',
          ],
          verbs: ['get', 'list', 'watch'],
        },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
        // The CA checks sidecars' service-account tokens with TokenReviews, as istiod does.
        { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `${ISTIOD}-${ns}`, labels: LABELS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${ISTIOD}-${ns}` },
      subjects: [{ kind: 'ServiceAccount', name: ISTIOD, namespace: ns }],
    },
    // As istiod's Role: the self-signed CA root goes into Secret istio-ca-secret of its own namespace.
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(ISTIOD),
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['create', 'get', 'watch', 'list'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(ISTIOD),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: ISTIOD },
      subjects: [{ kind: 'ServiceAccount', name: ISTIOD, namespace: ns }],
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(ISTIOD),
      spec: {
        replicas: o.replicas,
        selector: { matchLabels: { app: 'istiod' } },
        template: {
          metadata: { labels: { ...LABELS, 'sidecar.istio.io/inject': 'false' } },
          spec: {
            serviceAccountName: ISTIOD,
            containers: [
              {
                name: 'discovery',
                image: o.image,
                args: [
                  'server',
                  ...(o.etcd ? ['--etcd', o.etcd] : ['--kubernetes']),
                  '--xds-address',
                  `0.0.0.0:${XDS_PORT}`,
                  '--debug-address',
                  '0.0.0.0:15014',
                  '--webhook-address',
                  `0.0.0.0:${WEBHOOK_PORT}`,
                  '--webhook-cert',
                  '/etc/mizzen/webhook/tls.crt',
                  '--webhook-key',
                  '/etc/mizzen/webhook/tls.key',
                  '--inject-image',
                  o.image,
                  '--inject-discovery-address',
                  xds,
                ],
                env: [
                  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                  { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                ],
                ports: [
                  { name: 'grpc-xds', containerPort: XDS_PORT },
                  { name: 'http-monitoring', containerPort: 15014 },
                  { name: 'https-webhook', containerPort: WEBHOOK_PORT },
                ],
                readinessProbe: { httpGet: { path: '/ready', port: 15014 }, periodSeconds: 3 },
                resources: { requests: { cpu: '500m', memory: '512Mi' } },
                securityContext: {
                  runAsNonRoot: true,
                  runAsUser: 1337,
                  readOnlyRootFilesystem: true,
                  allowPrivilegeEscalation: false,
                  capabilities: { drop: ['ALL'] },
                },
                volumeMounts: [{ name: 'webhook-tls', mountPath: '/etc/mizzen/webhook', readOnly: true }],
              },
            ],
            volumes: [{ name: 'webhook-tls', secret: { secretName: 'istiod-webhook-tls' } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(ISTIOD),
      spec: {
        selector: { app: 'istiod' },
        ports: [
          { name: 'grpc-xds', port: XDS_PORT, targetPort: XDS_PORT },
          { name: 'http-monitoring', port: 15014, targetPort: 15014 },
          { name: 'https-webhook', port: 443, targetPort: WEBHOOK_PORT },
        ],
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'istio-sidecar-injector', labels: LABELS },
      webhooks: [
        {
          // Namespaces labelled istio-injection=enabled, except pods that opt out.
          name: 'namespace.sidecar-injector.istio.io',
          namespaceSelector: { matchLabels: { 'istio-injection': 'enabled' } },
          objectSelector: {
            matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] }],
          },
          ...injectWebhook(clientConfig('/inject')),
        },
        {
          // Pods labelled sidecar.istio.io/inject=true in namespaces without the label.
          name: 'object.sidecar-injector.istio.io',
          namespaceSelector: { matchExpressions: [{ key: 'istio-injection', operator: 'DoesNotExist' }] },
          objectSelector: { matchLabels: { 'sidecar.istio.io/inject': 'true' } },
          ...injectWebhook(clientConfig('/inject')),
        },
      ],
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: `istio-validator-${ns}`, labels: LABELS },
      webhooks: [
        {
          name: 'rev.validation.istio.io',
          clientConfig: clientConfig('/validate'),
          rules: [
            {
              operations: ['CREATE', 'UPDATE'],
              apiGroups: ISTIO_GROUPS,
              apiVersions: ['*'],
              resources: ['*'],
            },
          ],
          failurePolicy: 'Fail',
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
          timeoutSeconds: 10,
        },
      ],
    },
    ...ingressGateway(o, xds),
  ];
}

function injectWebhook(clientConfig: unknown): Record<string, unknown> {
  return {
    clientConfig,
    rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
    failurePolicy: 'Fail',
    sideEffects: 'None',
    reinvocationPolicy: 'Never',
    admissionReviewVersions: ['v1'],
    timeoutSeconds: 10,
  };
}

/** The ingress gateway: `mizzen proxy router` selected by `istio: ingressgateway`, ports 80/443 → 8080/8443. */
function ingressGateway(o: InstallOptions, xds: string): Record<string, unknown>[] {
  const labels = {
    app: 'istio-ingressgateway',
    istio: 'ingressgateway',
    'app.kubernetes.io/part-of': 'mizzen',
  };
  const metadata = { name: 'istio-ingressgateway', namespace: o.namespace, labels };
  const script = [
    'exec mizzen proxy router --xds-address "$MIZZEN_XDS_ADDRESS"',
    '--id "router~$INSTANCE_IP~$POD_NAME.$POD_NAMESPACE~$POD_NAMESPACE.svc.cluster.local"',
    '--metadata "{\\"NAMESPACE\\":\\"$POD_NAMESPACE\\",\\"INSTANCE_IPS\\":\\"$INSTANCE_IP\\",\\"MIZZEN_GATEWAY_PORT_OFFSET\\":\\"8000\\",\\"LABELS\\":$ISTIO_METAJSON_LABELS}"',
    '--status-port 15021',
  ].join(' ');
  const field = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata,
      spec: {
        selector: { matchLabels: { istio: 'ingressgateway' } },
        template: {
          metadata: { labels: { ...labels, 'sidecar.istio.io/inject': 'false' } },
          spec: {
            serviceAccountName: 'istio-ingressgateway',
            containers: [
              {
                name: 'istio-proxy',
                image: o.image,
                command: ['sh', '-c', script],
                env: [
                  field('POD_NAME', 'metadata.name'),
                  field('POD_NAMESPACE', 'metadata.namespace'),
                  field('INSTANCE_IP', 'status.podIP'),
                  {
                    name: 'ISTIO_METAJSON_LABELS',
                    value: JSON.stringify({ app: labels.app, istio: labels.istio }),
                  },
                  { name: 'MIZZEN_XDS_ADDRESS', value: xds },
                ],
                // Gateway servers on port 80/443 listen on 8080/8443 (MIZZEN_GATEWAY_PORT_OFFSET 8000), as Istio's do.
                ports: [
                  { name: 'http2', containerPort: 8080 },
                  { name: 'https', containerPort: 8443 },
                  { name: 'status-port', containerPort: 15021 },
                ],
                readinessProbe: { httpGet: { path: '/healthz/ready', port: 15021 }, periodSeconds: 2 },
                resources: { requests: { cpu: '100m', memory: '128Mi' } },
                securityContext: {
                  runAsNonRoot: true,
                  runAsUser: 1337,
                  readOnlyRootFilesystem: true,
                  allowPrivilegeEscalation: false,
                  capabilities: { drop: ['ALL'] },
                },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata,
      spec: {
        type: 'LoadBalancer',
        selector: { istio: 'ingressgateway' },
        ports: [
          { name: 'status-port', port: 15021, targetPort: 15021 },
          { name: 'http2', port: 80, targetPort: 8080 },
          { name: 'https', port: 443, targetPort: 8443 },
        ],
      },
    },
  ];
}
