// Three nodes on one PostgreSQL and one Redis: a customer on node A, its agent on node B, an
// admin on node C. Messages from both sides, typing and read receipts cross the nodes; then
// the nodes' Redis connections are cut (CLIENT KILL) while messages keep flowing. Every
// client ends with every message of the session exactly once and in seq order, reconnecting
// and replaying from its last seq whenever a node disconnects it.
import { io } from 'socket.io-client';
import { execFileSync } from 'node:child_process';
import { ask, main, once, restAt, until } from './lib.mjs';

const [A, B, C] = [process.env.NODE_A, process.env.NODE_B, process.env.NODE_C];
const { CUSTOMER_TOKEN: customer, CUSTOMER2_TOKEN: customer2, AGENT_TOKEN: agent, ADMIN_TOKEN: admin, REDIS_URL } = process.env;
const ROUNDS = 40;

/** A client of one node that stays joined to `sid`: when the node disconnects it, it
 * connects again and joins from the last seq it has, as a real client does. */
function follower(base, token, sid) {
  const seqs = [];
  // What each connection received after its join was acknowledged: live delivery only.
  const live = [];
  const state = { seqs, live, reconnects: 0, socket: null, typing: [], reads: [], unread: [], updates: [] };
  let last = 0;
  const start = async () => {
    const since = last;
    const s = io(`${base}/chat`, { transports: ['websocket'], reconnection: false, auth: { token } });
    const segment = { joined: false, seqs: [] };
    live.push(segment.seqs);
    state.socket = s;
    s.on('newMessage', (m) => {
      if (m.sessionId !== sid) return;
      seqs.push(m.seq);
      if (segment.joined) segment.seqs.push(m.seq);
      last = Math.max(last, m.seq);
    });
    s.on('userTyping', (t) => state.typing.push(t));
    s.on('messagesRead', (r) => state.reads.push(r));
    s.on('unreadCount', (u) => state.unread.push(u));
    s.on('sessionUpdated', (u) => state.updates.push(u));
    s.on('disconnect', (reason) => {
      if (state.closing) return;
      state.reconnects += 1;
      setTimeout(() => state.ready = start(), 50);
    });
    await new Promise((resolve, reject) => {
      s.once('connect', resolve);
      s.once('connect_error', reject);
    });
    const joined = await ask(s, 'joinSession', { sessionId: sid, sinceSeq: since });
    if (!joined.ok) throw new Error(`join failed: ${JSON.stringify(joined)}`);
    segment.joined = true;
  };
  state.ready = start();
  state.close = () => { state.closing = true; state.socket.close(); };
  return state;
}

function killRedisClients() {
  // Every node's subscriber and publisher connection to Redis.
  const url = new URL(REDIS_URL);
  execFileSync('redis-cli', ['-h', url.hostname, '-p', url.port || '6379', 'CLIENT', 'KILL', 'TYPE', 'pubsub']);
  execFileSync('redis-cli', ['-h', url.hostname, '-p', url.port || '6379', 'CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
}

main(async (assert) => {
  const { body: opened } = await restAt(A, 'POST', '/v1/sessions', customer, { force_new: true, business_id: 'shop' });
  const sid = opened.session.id;
  const clients = {
    customer: follower(A, customer, sid),
    agent: follower(B, agent, sid),
    admin: follower(C, admin, sid),
  };
  await Promise.all(Object.values(clients).map((c) => c.ready));

  // Both sides write at once, through different nodes and doors.
  const sendAll = async (from, to) => {
    const writes = [];
    for (let i = from; i < to; i++) {
      writes.push(ask(clients.customer.socket, 'sendMessage', { sessionId: sid, content: `c${i}` }).catch(() => null));
      writes.push(restAt(B, 'POST', `/v1/sessions/${sid}/messages`, agent, { content: `a${i}` }));
    }
    return Promise.all(writes);
  };
  await sendAll(0, ROUNDS / 2);

  // Typing on B reaches the customer on A; a read receipt on A reaches the agent on B.
  clients.agent.socket.emit('typing', { sessionId: sid, isTyping: true });
  await until('typing crosses nodes', () => clients.customer.typing.some((t) => t.sessionId === sid && t.isTyping));
  const { body: now } = await restAt(C, 'GET', `/v1/sessions/${sid}`, admin);
  const upTo = now.session?.last_seq ?? now.last_seq;
  await ask(clients.customer.socket, 'markAsRead', { sessionId: sid, upToSeq: upTo });
  await until('the read receipt crosses nodes', () => clients.agent.reads.some((r) => r.sessionId === sid && r.upToSeq === upTo));

  // Each of these arrives once, on another node than the one it happened on.
  const settle = () => new Promise((r) => setTimeout(r, 300));
  // The agent reads through node C: its socket on B learns its unread count.
  await restAt(C, 'POST', `/v1/sessions/${sid}/read`, agent, { up_to_seq: upTo });
  const unreadOf = () => clients.agent.unread.filter((u) => u.sessionId === sid);
  await until('the unread count crosses nodes', () => unreadOf().length > 0);
  // The admin changes the session on C: the customer on A and the agent on B see it.
  await restAt(C, 'PATCH', `/v1/sessions/${sid}`, admin, { priority: 'high' });
  const updatesOf = (c) => c.updates.filter((u) => u.id === sid && u.priority === 'high');
  await until('session events cross nodes', () => updatesOf(clients.customer).length > 0 && updatesOf(clients.agent).length > 0);
  // A second customer, connected to B, opens a session through A: its place comes to B.
  const second = io(`${B}/chat`, { transports: ['websocket'], reconnection: false, auth: { token: customer2 } });
  await new Promise((resolve, reject) => { second.once('connect', resolve); second.once('connect_error', reject); });
  const places = [];
  second.on('queuePosition', (q) => places.push(q));
  const { body: other } = await restAt(A, 'POST', '/v1/sessions', customer2, { force_new: true, business_id: 'shop' });
  await until('the queue position crosses nodes', () => places.some((q) => q.sessionId === other.session.id));
  await settle();
  assert.equal(unreadOf().length, 1, `one unread count: ${JSON.stringify(unreadOf())}`);
  assert.equal(unreadOf()[0].unreadCount, 0);
  assert.equal(updatesOf(clients.customer).length, 1, 'one session update for the customer');
  assert.equal(updatesOf(clients.agent).length, 1, 'one session update for the agent');
  assert.deepEqual(places.filter((q) => q.sessionId === other.session.id).map((q) => q.position), [1]);
  second.close();

  // Cut every node off Redis while both sides keep writing.
  const sending = sendAll(ROUNDS / 2, ROUNDS);
  await new Promise((r) => setTimeout(r, 30));
  killRedisClients();
  await sending;
  // A last message after the nodes are back on Redis.
  await new Promise((r) => setTimeout(r, 500));
  await restAt(B, 'POST', `/v1/sessions/${sid}/messages`, agent, { content: 'last' });

  const { body: final } = await restAt(A, 'GET', `/v1/sessions/${sid}/messages?limit=200`, customer);
  const stored = (final.messages ?? final).map((m) => m.seq);
  const total = stored.length;
  assert.deepEqual(stored, Array.from({ length: total }, (_, i) => i + 1), 'the store has no gap');
  assert.ok(total >= 2 * ROUNDS, `every acknowledged message is stored (${total})`);
  for (const [who, c] of Object.entries(clients)) {
    await c.ready;
    await until(`${who} has all ${total}`, () => c.seqs.length >= total)
      .catch((e) => { throw new Error(`${e.message}: got ${JSON.stringify(c.seqs)} after ${c.reconnects} reconnects`); });
    assert.ok(c.reconnects >= 1, `${who}: cut off from Redis, its node made it replay`);
    const sorted = [...c.seqs].sort((x, y) => x - y);
    assert.deepEqual(sorted, stored, `${who}: every message exactly once (after ${c.reconnects} reconnects): ${JSON.stringify(c.seqs)}`);
    for (const segment of c.live) {
      const inOrder = segment.every((n, i) => i === 0 || n > segment[i - 1]);
      assert.ok(inOrder, `${who}: live messages in seq order: ${JSON.stringify(segment)}`);
    }
  }
  Object.values(clients).forEach((c) => c.close());
  return { ok: true, messages: total, reconnects: Object.fromEntries(Object.entries(clients).map(([k, c]) => [k, c.reconnects])) };
});
