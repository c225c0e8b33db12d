// A node dies (kill -9) in the middle of a stream of sends: its client, an agent, reconnects
// to another node with its last seq and ends with every message of the session exactly once,
// and every message the sender saw acknowledged is in the database.
import { io } from 'socket.io-client';
import { ask, main, restAt, until } from './lib.mjs';

const { NODE_A: A, NODE_B: B, NODE_C: C, NODE_B_PID, CUSTOMER_TOKEN: customer, AGENT_TOKEN: agent } = process.env;
const SENDS = 60;

main(async (assert) => {
  const { body: opened } = await restAt(A, 'POST', '/v1/sessions', customer, { force_new: true, business_id: 'shop' });
  const sid = opened.session.id;

  // The agent's client: on B, and on C once B is gone, joining from the last seq it has.
  const seqs = [];
  const nodes = [B, C];
  let last = 0;
  let connections = 0;
  const connectTo = async (base) => {
    const since = last;
    const s = io(`${base}/chat`, { transports: ['websocket'], reconnection: false, auth: { token: agent } });
    s.on('newMessage', (m) => {
      if (m.sessionId !== sid) return;
      seqs.push(m.seq);
      last = Math.max(last, m.seq);
    });
    s.on('disconnect', () => {
      if (!closing) setTimeout(() => { ready = connectTo(nodes[Math.min(connections, nodes.length - 1)]); }, 50);
    });
    await new Promise((resolve, reject) => { s.once('connect', resolve); s.once('connect_error', reject); });
    connections += 1;
    const joined = await ask(s, 'joinSession', { sessionId: sid, sinceSeq: since });
    assert.equal(joined.ok, true);
    socket = s;
  };
  let closing = false;
  let socket;
  let ready = connectTo(B);
  await ready;

  const acked = [];
  for (let i = 0; i < SENDS; i++) {
    if (i === SENDS / 3) process.kill(Number(NODE_B_PID), 'SIGKILL');
    const r = await restAt(A, 'POST', `/v1/sessions/${sid}/messages`, customer, { content: `m${i}` });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    acked.push(r.body.id);
  }
  const { body: page } = await restAt(C, 'GET', `/v1/sessions/${sid}/messages?limit=200`, customer);
  const stored = page.messages;
  const storedIds = new Set(stored.map((m) => m.id));
  assert.ok(acked.every((id) => storedIds.has(id)), 'every acknowledged message is stored');
  const expected = stored.map((m) => m.seq);
  await ready;
  await until(`the agent has all ${expected.length}`, () => seqs.length >= expected.length)
    .catch((e) => { throw new Error(`${e.message}: got ${JSON.stringify(seqs)}`); });
  assert.deepEqual([...seqs].sort((x, y) => x - y), expected, `nothing missing, nothing twice: ${JSON.stringify(seqs)}`);
  assert.equal(connections, 2, 'the agent moved from B to C');
  closing = true;
  socket.close();
  return { ok: true, messages: expected.length };
});
