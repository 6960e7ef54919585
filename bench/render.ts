// Re-renders a report's markdown from the JSON `npm run bench` wrote beside it (after a change to the format).
import { readFileSync, writeFileSync } from 'node:fs';
import { renderReport, type BenchReport } from './lib/report.js';

const file = process.argv[2];
if (!file?.endsWith('.json')) {
  console.error('usage: node dist/bench/render.js bench/results/<date>-<host>.json');
  process.exit(2);
}
const data = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
data.startedAt = new Date(data.startedAt);
writeFileSync(file.replace(/\.json$/, '.md'), renderReport(data));
console.log(`wrote ${file.replace(/\.json$/, '.md')}`);
