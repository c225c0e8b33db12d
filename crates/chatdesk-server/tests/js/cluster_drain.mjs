// SIGTERM on a node while its client has messages on the way: the node commits and
// acknowledges what it took before it closes the socket, so every stored message was
// acknowledged; the client then moves to another node and replays the session in full.
import { io } from 'socket.io-client';
import { ask, main, restAt } from './lib.mjs';

const { NODE_A: A, NODE_B: B, NODE_A_PID, CUSTOMER_TOKEN: customer } = process.env;
const SENDS = 100;

function connect(base) {
  const s = io(`${base}/chat`, { transports: ['websocket'], reconnection: false, auth: { token: customer } });
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

main(async (assert) => {
  const { body: opened } = await restAt(A, 'POST', '/v1/sessions', customer, { force_new: true, business_id: 'shop' });
  const sid = opened.session.id;
  const s = await connect(A);
  const closed = new Promise((resolve) => s.on('disconnect', resolve));
  const acked = new Set();
  let first;
  const firstAck = new Promise((resolve) => { first = resolve; });
  for (let i = 0; i < SENDS; i++) {
    s.emit('sendMessage', { sessionId: sid, content: `m${i}` }, (ack) => {
      if (ack && ack.id) acked.add(ack.id);
      first();
    });
  }
  await firstAck;
  process.kill(Number(NODE_A_PID), 'SIGTERM');
  await closed;

  const { body: page } = await restAt(B, 'GET', `/v1/sessions/${sid}/messages?limit=200`, customer);
  const stored = page.messages.map((m) => m.id);
  assert.ok(stored.length > 0, 'some messages were taken before the stop');
  assert.deepEqual(stored.filter((id) => !acked.has(id)), [], 'every stored message was acknowledged');
  assert.equal(acked.size, stored.length);

  const again = await connect(B);
  const seqs = [];
  again.on('newMessage', (m) => { if (m.sessionId === sid) seqs.push(m.seq); });
  const joined = await ask(again, 'joinSession', { sessionId: sid, sinceSeq: 0 });
  assert.equal(joined.ok, true);
  assert.deepEqual(seqs, page.messages.map((m) => m.seq), 'the other node replays the session');
  again.close();
  return { ok: true, stored: stored.length, acked: acked.size };
});
