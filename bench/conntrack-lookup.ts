// Cost of recovering an original destination (src/proxy/listener/original-dst.ts), per new connection.
// Run inside a pod of `mizzen up --network pod`:
//   mizzen exec POD -- node dist/bench/conntrack-lookup.js HOST PORT [CONNS]
// Opens CONNS connections to HOST:PORT through capture first (the table fills with TIME_WAIT entries
// as under real traffic), then for 100 new connections times the lookup of each one's original
// destination: (a) reading /proc/net/nf_conntrack, (b) from `conntrack -E` events.
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { ConntrackEvents, ConntrackReader, type SocketAddr } from '../src/proxy/listener/original-dst.js';

const [host, port, conns = '0'] = process.argv.slice(2);
const open = (): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    const s = net.connect(Number(port), host, () => resolve(s));
    s.on('error', reject);
  });
for (let i = 0; i < Number(conns); i++) (await open()).end();
const tableLines = readFileSync('/proc/net/nf_conntrack', 'latin1').split('\n').length - 1;
/** The proxy's side of a captured connection: 127.0.0.1:15001 (REDIRECT in OUTPUT) → the client. */
const sides = (s: net.Socket): [SocketAddr, SocketAddr] => [
  { ip: '127.0.0.1', port: 15001 },
  { ip: s.localAddress!, port: s.localPort! },
];
async function measure(
  reader: ConntrackReader | ConntrackEvents,
  n: number,
): Promise<{ msPerConnection: number; found: string }> {
  let total = 0;
  let found = 0;
  for (let i = 0; i < n; i++) {
    const s = await open();
    const t0 = performance.now();
    const dst = await new Promise<SocketAddr | null>((r) => reader.lookup(...sides(s), r));
    total += performance.now() - t0;
    if (dst && dst.port === Number(port)) found++;
    s.destroy();
  }
  return { msPerConnection: +(total / n).toFixed(3), found: `${found}/${n}` };
}
const table = new ConntrackReader();
const events = new ConntrackEvents(table);
await new Promise((r) => events.lookup({ ip: '0.0.0.0', port: 1 }, { ip: '0.0.0.0', port: 1 }, r)); // starts the child
console.log(
  JSON.stringify({ tableLines, procRead: await measure(table, 100), events: await measure(events, 100) }),
);
process.exit(0);
