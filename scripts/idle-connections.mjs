// Measures what an idle Socket.IO connection costs the server: opens N authenticated
// websocket connections to /chat, then prints the server's resident memory before and after.
// Usage: node scripts/idle-connections.mjs <server-pid> <url> <token> [N]
// (run from crates/chatdesk-server/tests/js so socket.io-client resolves, or set NODE_PATH).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(process.cwd() + '/');
const { io } = require('socket.io-client');

const [pid, url, token, n = '2000'] = process.argv.slice(2);
const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const settle = () => new Promise((r) => setTimeout(r, 1500));

await settle();
const before = rssKb();
const sockets = [];
for (let i = 0; i < Number(n); i++) {
  const s = io(`${url}/chat`, { transports: ['websocket'], reconnection: false, auth: { token } });
  sockets.push(new Promise((resolve, reject) => { s.once('connect', () => resolve(s)); s.once('connect_error', reject); }));
  if (i % 200 === 199) await Promise.all(sockets.slice(i - 199, i + 1));
}
const open = await Promise.all(sockets);
await settle();
const after = rssKb();
console.log(JSON.stringify({ connections: open.length, rss_before_kb: before, rss_after_kb: after,
  per_connection_bytes: Math.round(((after - before) * 1024) / open.length) }));
open.forEach((s) => s.close());
process.exit(0);
