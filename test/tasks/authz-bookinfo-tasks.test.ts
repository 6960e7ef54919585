// Istio's "Authorization for HTTP traffic" task on bookinfo through the ingress gateway, on one real
// local mesh: allow-nothing denies the page, productpage-viewer lets GET in (details and reviews still
// denied), details-viewer and reviews-viewer admit productpage's service account (its SPIFFE principal
// from auto mutual TLS between pods), ratings-viewer admits reviews' one; each step asserted on the page
// the gateway returns. The mesh runs in pod network mode (each pod in its own netns, mTLS between sidecars).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyYaml,
  cli,
  eventually,
  meshDown,
  meshUp,
  newMesh,
  request,
  EXAMPLES,
  type Mesh,
} from './mesh.js';

let mesh: Mesh | undefined;

function m(): Mesh {
  assert.ok(mesh, 'the mesh did not start');
  return mesh;
}

async function productpage(): Promise<{ status: number; body: string }> {
  return request(`http://127.0.0.1:${m().gatewayPort}/productpage`, { timeoutMs: 20_000 });
}

/** Waits until the product page satisfies `ok` three times in a row (the policy reached the proxies). */
async function until(what: string, ok: (r: { status: number; body: string }) => boolean): Promise<void> {
  let last = { status: 0, body: '' };
  let streak = 0;
  await eventually(
    what,
    async () => {
      last = await productpage();
      streak = ok(last) ? streak + 1 : 0;
      return streak >= 3;
    },
    30_000,
    100,
    () => `(last: ${last.status} ${last.body.slice(0, 200)})`,
  );
}

const RATINGS_DOWN = 'Ratings service is currently unavailable';
const STAR = '<span class="glyphicon glyphicon-star"></span>';

/** Waits until one product page satisfies `ok` (reviews versions take turns, so one is enough). */
async function once(what: string, ok: (r: { status: number; body: string }) => boolean): Promise<void> {
  let last = { status: 0, body: '' };
  await eventually(
    what,
    async () => ok((last = await productpage())),
    30_000,
    100,
    () => `(last: ${last.status} ${last.body.slice(0, 200)})`,
  );
}

const ALLOW_NOTHING = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: allow-nothing
  namespace: default
spec:
  {}
`;

const PRODUCTPAGE_VIEWER = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: "productpage-viewer"
  namespace: default
spec:
  selector:
    matchLabels:
      app: productpage
  action: ALLOW
  rules:
  - to:
    - operation:
        methods: ["GET"]
`;

/** An ALLOW policy for GET to app APP from service account SA's principal (the task's *-viewer policies). */
function viewer(app: string, sa: string): string {
  return `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: "${app}-viewer"
  namespace: default
spec:
  selector:
    matchLabels:
      app: ${app}
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/default/sa/${sa}"]
    to:
    - operation:
        methods: ["GET"]
`;
}

describe("Istio's authorization for HTTP traffic task (bookinfo)", { timeout: 600_000 }, () => {
  before(async () => {
    mesh = await newMesh();
    await meshUp(mesh, `${EXAMPLES}bookinfo`);
  });
  after(() => meshDown(mesh));

  it('before any policy the page shows details and reviews', async () => {
    await until('page with details and reviews', (r) => r.status === 200 && !/Error fetching/.test(r.body));
  });

  it('allow-nothing: the product page is "RBAC: access denied" (403)', async () => {
    await applyYaml(m(), ALLOW_NOTHING);
    await until('403 RBAC: access denied', (r) => r.status === 403 && r.body === 'RBAC: access denied');
  });

  it('productpage-viewer: GET reaches productpage; details and reviews are still denied', async () => {
    await applyYaml(m(), PRODUCTPAGE_VIEWER);
    await until(
      'page with both errors',
      (r) =>
        r.status === 200 &&
        r.body.includes('Error fetching product details!') &&
        r.body.includes('Error fetching product reviews!'),
    );
    // Only GET is allowed: a POST to productpage is denied by its sidecar.
    const post = await request(`http://127.0.0.1:${m().gatewayPort}/productpage`, {
      method: 'POST',
      body: '',
    });
    assert.deepEqual([post.status, post.body], [403, 'RBAC: access denied']);
  });

  it("details-viewer: productpage's principal reads details; reviews still denied", async () => {
    await applyYaml(m(), viewer('details', 'bookinfo-productpage'));
    await until(
      'page with details, reviews error',
      (r) =>
        r.status === 200 &&
        !r.body.includes('Error fetching product details!') &&
        r.body.includes('Error fetching product reviews!'),
    );
  });

  it('reviews-viewer: reviews come back; ratings are denied ("Ratings service is currently unavailable")', async () => {
    await applyYaml(m(), viewer('reviews', 'bookinfo-productpage'));
    await until('page with details and reviews', (r) => r.status === 200 && !/Error fetching/.test(r.body));
    // reviews v2/v3 call ratings, which allow-nothing still denies (v1 shows no ratings at all).
    await once('a page whose ratings are unavailable', (r) => r.body.includes(RATINGS_DOWN));
  });

  it("ratings-viewer: reviews' principal reads ratings (stars on v2/v3)", async () => {
    await applyYaml(m(), viewer('ratings', 'bookinfo-reviews'));
    await until('pages without the ratings error', (r) => r.status === 200 && !r.body.includes(RATINGS_DOWN));
    await once('a page with stars', (r) => r.status === 200 && r.body.includes(STAR));
  });

  it('ratings-viewer naming productpage instead: reviews is denied again', async () => {
    await applyYaml(m(), viewer('ratings', 'bookinfo-productpage'));
    await once('a page whose ratings are unavailable', (r) => r.body.includes(RATINGS_DOWN));
  });

  it('deleting allow-nothing brings details and reviews back', async () => {
    await cli(m(), ['delete', 'authorizationpolicy', 'allow-nothing']);
    await until('page with details and reviews', (r) => r.status === 200 && !/Error fetching/.test(r.body));
  });
});
