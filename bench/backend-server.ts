// The minimal Node backend: answers every request with a 1 KiB body, over HTTP/1.1 and cleartext HTTP/2.
import { createServer } from 'node:http';
import { createServer as createH2Server } from 'node:http2';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'h2-port': { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});
const body = Buffer.alloc(1024, 'x');
const headers = { 'content-type': 'text/plain', 'content-length': String(body.length) };

const h1 = createServer((_req, res) => {
  res.writeHead(200, headers);
  res.end(body);
});
h1.keepAliveTimeout = 120_000;
h1.listen(Number(values.port ?? 0), values.host, () => {
  const addr = h1.address();
  console.log(`backend http/1.1 listening on ${typeof addr === 'object' && addr ? addr.port : '?'}`);
});

if (values['h2-port']) {
  const h2 = createH2Server((_req, res) => {
    res.writeHead(200, headers);
    res.end(body);
  });
  h2.listen(Number(values['h2-port']), values.host, () => console.log('backend h2c listening'));
}

process.on('SIGTERM', () => process.exit(0));
