// Access-log format compilation: commands, REQ(A?B) fallbacks, max lengths, flags, unknown commands.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Flag } from '../response-flags.js';
import { Formatter, ISTIO_FORMAT, type AccessLogContext } from './formatter.js';

const ctx: AccessLogContext = {
  startTime: Date.UTC(2024, 0, 2, 3, 4, 5, 678),
  reqHeader: (n) =>
    ({ ':method': 'GET', ':path': '/p', ':authority': 'svc:80', 'user-agent': 'ua', 'x-request-id': 'id' })[
      n
    ],
  respHeader: (n) => (n === 'x-envoy-upstream-service-time' ? '7' : undefined),
  trailer: () => undefined,
  protocol: 'HTTP/1.1',
  responseCode: 503,
  responseFlags: Flag.UF | Flag.URX,
  responseCodeDetails: 'upstream_reset_before_response_started{connection_failure}',
  connectionTerminationDetails: '',
  upstreamTransportFailureReason: '',
  bytesReceived: 0,
  bytesSent: 91,
  durationMs: 12.4,
  responseDurationMs: -1,
  requestDurationMs: 0,
  upstreamHost: '127.0.0.1:9',
  upstreamCluster: 'outbound|80||svc',
  upstreamLocalAddress: null,
  downstreamLocalAddress: '127.0.0.1:15001',
  downstreamRemoteAddress: '127.0.0.1:5555',
  requestedServerName: '',
  routeName: 'default',
  attemptCount: 3,
};

describe('access log formatter', () => {
  it('renders Istio’s default format', () => {
    assert.equal(
      new Formatter(ISTIO_FORMAT).format(ctx),
      '[2024-01-02T03:04:05.678Z] "GET /p HTTP/1.1" 503 UF,URX upstream_reset_before_response_started{connection_failure} - "-" 0 91 12 7 "-" "ua" "id" "svc:80" "127.0.0.1:9" outbound|80||svc - 127.0.0.1:15001 127.0.0.1:5555 - default\n',
    );
  });

  it('handles fallbacks, max length, %% and unknown commands', () => {
    const f = new Formatter(
      '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %REQ(USER-AGENT):1% 100%% %NOPE% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %UPSTREAM_REQUEST_ATTEMPT_COUNT%',
    );
    assert.equal(f.format(ctx), '/p u 100% - 127.0.0.1 3');
  });
});
