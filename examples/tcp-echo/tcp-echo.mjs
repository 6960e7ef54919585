// A TCP echo server: answers each line it receives with "<prefix> <line>", on one or more ports.
// Usage: node tcp-echo.mjs [PORTS] [PREFIX]; PORTS is comma-separated (default env PORT, else 9000),
// PREFIX defaults to env PREFIX, else "hello". Listens on env HOST (default 127.0.0.1).
import net from 'node:net';

const host = process.env.HOST || '127.0.0.1';
const ports = (process.argv[2] ?? process.env.PORT ?? '9000').split(',').map(Number);
const prefix = process.argv[3] ?? process.env.PREFIX ?? 'hello';

function onConnection(socket) {
  let pending = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => {
    pending += chunk;
    let nl;
    while ((nl = pending.indexOf('\n')) !== -1) {
      if (!socket.write(`${prefix} ${pending.slice(0, nl + 1)}`)) socket.pause();
      pending = pending.slice(nl + 1);
    }
  });
  socket.on('drain', () => socket.resume());
  socket.on('end', () => {
    // A last line without a newline is still echoed, then our side closes too.
    socket.end(pending === '' ? undefined : `${prefix} ${pending}\n`);
  });
  socket.on('error', () => socket.destroy());
}

const servers = ports.map((port) => {
  const server = net.createServer({ allowHalfOpen: true }, onConnection);
  server.listen(port, host, () => {
    const addr = /** @type {net.AddressInfo} */ (server.address());
    console.log(`listening on ${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`);
  });
  return server;
});

function stop() {
  for (const server of servers) server.close();
  process.exit(0);
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
