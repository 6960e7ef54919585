// Valid and invalid Telemetry documents.
import { runTable, type Case } from '../../test-util.js';

const tel = (spec: string, version = 'v1'): string =>
  `apiVersion: telemetry.istio.io/${version}\nkind: Telemetry\nmetadata:\n  name: mesh-default\n  namespace: istio-system\nspec:\n${spec}`;

const cases: Case[] = [
  {
    name: 'mesh-wide Envoy access logging (Istio access-log task)',
    yaml: `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: mesh-default
  namespace: istio-system
spec:
  accessLogging:
    - providers:
      - name: envoy
`,
  },
  {
    name: 'access log filter on errors, v1alpha1',
    yaml: tel(
      '  selector:\n    matchLabels:\n      app: sleep\n  accessLogging:\n  - providers:\n    - name: otel\n    filter:\n      expression: response.code >= 400\n',
      'v1alpha1',
    ),
  },
  {
    name: 'tracing with sampling and every kind of custom tag',
    yaml: tel(`  tracing:
  - providers:
    - name: zipkin
    randomSamplingPercentage: 10.5
    disableSpanReporting: false
    useRequestIdForTraceSampling: true
    customTags:
      my_tag_literal:
        literal:
          value: foo
      my_tag_env:
        environment:
          name: FOO
          defaultValue: bar
      my_tag_header:
        header:
          name: x-foo
      my_tag_path:
        formatter:
          value: "%REQ(:PATH)%"
`),
    warnings: [{ path: 'spec.tracing[0].customTags.my_tag_path.formatter', message: /not evaluated/ }],
  },
  {
    name: 'tracing: every enforced field together warns nothing (tracing itself is enforced)',
    yaml: tel(`  tracing:
  - match:
      mode: SERVER
    providers:
    - name: zipkin
    randomSamplingPercentage: 100
    disableSpanReporting: true
    useRequestIdForTraceSampling: false
    enableIstioTags: false
    customTags:
      lit:
        literal:
          value: foo
      env:
        environment:
          name: FOO
      hdr:
        header:
          name: x-foo
          defaultValue: none
`),
    noWarnings: true,
  },
  {
    name: 'metrics: disable client REQUEST_COUNT and edit tags (customize metrics task)',
    yaml: tel(`  metrics:
  - providers:
    - name: prometheus
    overrides:
    - match:
        metric: REQUEST_COUNT
        mode: CLIENT
      disabled: true
    - match:
        metric: ALL_METRICS
      tagOverrides:
        request_host:
          value: request.host
        request_protocol:
          operation: REMOVE
    - match:
        customMetric: my_metric
      disabled: false
    reportingInterval: 15s
`),
  },
  {
    name: 'targetRef to a Gateway',
    yaml: tel(
      '  targetRef:\n    group: gateway.networking.k8s.io\n    kind: Gateway\n    name: bookinfo-gateway\n  accessLogging:\n  - disabled: true\n',
    ),
  },
  { name: 'empty spec', yaml: tel('  {}\n') },
  {
    name: 'what is not enforced warns: targetRef, customMetric, CEL tag values',
    yaml: tel(`  targetRef:
    kind: Gateway
    group: gateway.networking.k8s.io
    name: gw
  metrics:
  - overrides:
    - match:
        customMetric: my_metric
      tagOverrides:
        request_host:
          value: request.host
        stage:
          value: "'canary'"
    - match:
        metric: GRPC_REQUEST_MESSAGES
      disabled: true
    reportingInterval: 15s
`),
    warnings: [
      { path: 'spec.targetRef', message: /not enforced.*no effect/ },
      {
        path: 'spec.metrics[0].overrides[0].match.customMetric',
        message: /custom metrics are not supported/,
      },
      {
        path: 'spec.metrics[0].overrides[0].tagOverrides.request_host.value',
        message: /quoted string literals/,
      },
      { path: 'spec.metrics[0].overrides[1].match.metric', message: /GRPC_REQUEST_MESSAGES is not reported/ },
    ],
  },
  {
    name: 'reportingInterval is enforced (TCP metrics of open connections): no warning',
    yaml: tel('  metrics:\n  - reportingInterval: 1s\n'),
    noWarnings: true,
  },
  {
    name: 'an access-log filter beyond response.code comparisons warns',
    yaml: tel('  accessLogging:\n  - filter:\n      expression: request.url_path.startsWith("/api")\n'),
    warnings: [
      { path: 'spec.accessLogging[0].filter.expression', message: /only response\.code comparisons/ },
    ],
  },
  {
    name: 'sampling above 100',
    yaml: tel('  tracing:\n  - randomSamplingPercentage: 150\n'),
    errors: [{ path: 'spec.tracing[0].randomSamplingPercentage', message: /between 0 and 100/ }],
  },
  {
    name: 'sampling as a string',
    yaml: tel('  tracing:\n  - randomSamplingPercentage: "10%"\n'),
    errors: [{ path: 'spec.tracing[0].randomSamplingPercentage', message: /must be a number/ }],
  },
  {
    name: 'custom tag with two sources',
    yaml: tel(
      '  tracing:\n  - customTags:\n      t:\n        literal:\n          value: a\n        header:\n          name: x\n',
    ),
    errors: [
      {
        path: 'spec.tracing[0].customTags.t',
        message: /only one of literal, environment, header, formatter/,
      },
    ],
  },
  {
    name: 'custom tag with no source',
    yaml: tel('  tracing:\n  - customTags:\n      t: {}\n'),
    errors: [
      {
        path: 'spec.tracing[0].customTags.t',
        message: /one of literal, environment, header, formatter must be set/,
      },
    ],
  },
  {
    name: 'empty literal tag value',
    yaml: tel('  tracing:\n  - customTags:\n      t:\n        literal:\n          value: ""\n'),
    errors: [{ path: 'spec.tracing[0].customTags.t.literal.value', message: /must not be empty/ }],
  },
  {
    name: 'environment tag without a name',
    yaml: tel('  tracing:\n  - customTags:\n      t:\n        environment:\n          defaultValue: x\n'),
    errors: [{ path: 'spec.tracing[0].customTags.t.environment.name', message: /is required/ }],
  },
  {
    name: 'unknown metric name suggests the right one',
    yaml: tel('  metrics:\n  - overrides:\n    - match:\n        metric: REQUEST_COUNTS\n'),
    errors: [{ path: 'spec.metrics[0].overrides[0].match.metric', message: /did you mean "REQUEST_COUNT"/ }],
  },
  {
    name: 'metric and customMetric together',
    yaml: tel(
      '  metrics:\n  - overrides:\n    - match:\n        metric: REQUEST_COUNT\n        customMetric: x\n',
    ),
    errors: [{ path: 'spec.metrics[0].overrides[0].match', message: /only one of metric, customMetric/ }],
  },
  {
    name: 'UPSERT tag override without a value',
    yaml: tel(
      '  metrics:\n  - overrides:\n    - tagOverrides:\n        request_host:\n          operation: UPSERT\n',
    ),
    errors: [
      {
        path: 'spec.metrics[0].overrides[0].tagOverrides.request_host.value',
        message: /required when operation is UPSERT/,
      },
    ],
  },
  {
    name: 'default operation is UPSERT, so a value is needed',
    yaml: tel('  metrics:\n  - overrides:\n    - tagOverrides:\n        request_host: {}\n'),
    errors: [{ path: 'spec.metrics[0].overrides[0].tagOverrides.request_host.value', message: /required/ }],
  },
  {
    name: 'REMOVE with a value',
    yaml: tel(
      '  metrics:\n  - overrides:\n    - tagOverrides:\n        x:\n          operation: REMOVE\n          value: y\n',
    ),
    errors: [
      {
        path: 'spec.metrics[0].overrides[0].tagOverrides.x.value',
        message: /only be set when operation is UPSERT/,
      },
    ],
  },
  {
    name: 'provider without a name',
    yaml: tel('  accessLogging:\n  - providers:\n    - {}\n'),
    errors: [{ path: 'spec.accessLogging[0].providers[0].name', message: /is required/ }],
  },
  ...[
    'response.code >=',
    'response.code >= 400 &&',
    'foo(',
    "request.headers['x'] == 'y",
    '1 +* 2',
    '('.repeat(5000) + '1' + ')'.repeat(5000),
  ].map((e) => ({
    name: `access-log filter that is not CEL: ${e.slice(0, 30)}`,
    yaml: tel(`  accessLogging:\n  - filter:\n      expression: ${JSON.stringify(e)}\n`),
    errors: [
      { path: 'spec.accessLogging[0].filter.expression', message: /must be a valid CEL expression/, line: 9 },
    ],
  })),
  {
    name: 'access-log filters that parse as CEL (has(), indexing, ||)',
    yaml: tel(
      "  accessLogging:\n  - filter:\n      expression: \"has(request.headers) && request.headers['x-debug'] == '1' || response.code == 503\"\n",
    ),
    warnings: [
      { path: 'spec.accessLogging[0].filter.expression', message: /only response\.code comparisons/ },
    ],
  },
  {
    name: 'filter without an expression',
    yaml: tel('  accessLogging:\n  - filter: {}\n'),
    errors: [{ path: 'spec.accessLogging[0].filter.expression', message: /is required/ }],
  },
  {
    name: 'reportingInterval without a unit',
    yaml: tel('  metrics:\n  - reportingInterval: "15"\n'),
    errors: [{ path: 'spec.metrics[0].reportingInterval', message: /must be a duration/ }],
  },
  {
    name: 'unknown workload mode',
    yaml: tel('  accessLogging:\n  - match:\n      mode: BOTH\n'),
    errors: [
      {
        path: 'spec.accessLogging[0].match.mode',
        message: /must be one of CLIENT_AND_SERVER, CLIENT, SERVER/,
      },
    ],
  },
  {
    name: 'tracing written as an object',
    yaml: tel('  tracing:\n    randomSamplingPercentage: 10\n'),
    errors: [{ path: 'spec.tracing', message: /must be a list/ }],
  },
  {
    name: 'misspelt top-level field',
    yaml: tel('  accessLoging:\n  - disabled: true\n'),
    errors: [{ path: 'spec.accessLoging', message: /did you mean "accessLogging"/ }],
  },
  {
    name: 'selector and targetRefs together',
    yaml: tel('  selector:\n    matchLabels:\n      app: a\n  targetRefs:\n  - kind: Service\n    name: a\n'),
    errors: [{ path: 'spec.targetRefs', message: /only one of selector, targetRef or targetRefs/ }],
  },
  {
    name: 'two tracing entries warn',
    yaml: tel('  tracing:\n  - randomSamplingPercentage: 1\n  - randomSamplingPercentage: 2\n'),
    warnings: [{ path: 'spec.tracing', message: /only one tracing entry/ }],
  },
];

runTable('Telemetry', cases);
