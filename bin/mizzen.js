#!/usr/bin/env node
// The `mizzen` command: runs the compiled CLI (build with `npm run build`).
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    console.error(`mizzen: ${err && err.stack ? err.stack : err}`);
    process.exitCode = 1;
  },
);
