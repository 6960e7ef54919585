// Bundles the dashboard UI (src/dashboard/ui: preact + cytoscape + cytoscape-dagre) with esbuild into
// dist/dashboard-ui/, which `mizzen dashboard` serves: index.html, app.js (+ map) and app.css. No CDN.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const src = 'src/dashboard/ui';
const out = 'dist/dashboard-ui';
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(src, 'main.tsx')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
for (const f of ['index.html', 'app.css']) copyFileSync(join(src, f), join(out, f));
