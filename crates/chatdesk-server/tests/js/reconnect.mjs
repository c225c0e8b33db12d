// A client that drops and reconnects with `sinceSeq` gets exactly what it missed, then live
// messages, with no gap and no duplicate, even while messages keep being sent — and even
// when a live message of the session reaches the new connection before its joinSession.
import { connect, connected, once, ask, rest, collect, main } from './lib.mjs';

main(async (assert) => {
  const token = process.env.USER_TOKEN;
  const agent = process.env.AGENT_TOKEN;
  const { body: opened } = await rest('POST', '/v1/sessions', token, { force_new: true });
  const sid = opened.session.id;
  const send = (who, i) => rest('POST', `/v1/sessions/${sid}/messages`, who, { content: `m${i}` });
  for (let i = 1; i <= 5; i++) await send(token, i);

  // First connection: catch up from 0, then go away at seq 5.
  let s = connect({ auth: { token } });
  await connected(s);
  let got = collect(s, 'newMessage');
  const joined = await ask(s, 'joinSession', { sessionId: sid, sinceSeq: 0 });
  assert.equal(joined.replayed, 5);
  assert.deepEqual(got.map((m) => m.seq), [1, 2, 3, 4, 5]);
  s.close();

  // Missed while away.
  for (let i = 6; i <= 15; i++) await send(agent, i);

  // Reconnect. The customer's connection follows its own sessions at once, so message 16,
  // sent before the client gets to join, arrives live first; joining from seq 5 must still
  // bring 6..15 (a high-water mark of 16 once hid them). Then rejoin while the agent keeps
  // sending.
  s = connect({ auth: { token } });
  await connected(s);
  got = collect(s, 'newMessage');
  const live16 = once(s, 'newMessage', { where: (m) => m.sessionId === sid && m.seq === 16 });
  await send(agent, 16);
  await live16;
  const sending = (async () => {
    for (let i = 17; i <= 40; i++) await send(agent, i);
  })();
  const rejoin = await ask(s, 'joinSession', { sessionId: sid, sinceSeq: 5 });
  assert.equal(rejoin.ok, true);
  assert.equal(rejoin.replayed >= 10, true, `replayed ${rejoin.replayed}`);
  await sending;
  const deadline = Date.now() + 20000;
  while (got.filter((m) => m.sessionId === sid).length < 35 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const seqs = got.filter((m) => m.sessionId === sid).map((m) => m.seq);
  const expected = Array.from({ length: 35 }, (_, i) => i + 6);
  assert.deepEqual([...seqs].sort((a, b) => a - b), expected, `no gap, no duplicate: got ${JSON.stringify(seqs)}`);
  assert.equal(seqs[0], 16, `the live message came first: got ${JSON.stringify(seqs)}`);
  // Caught-up and live messages each in order (a live one may come before the catch-up).
  assert.deepEqual(seqs.filter((n) => n < 16), expected.filter((n) => n < 16), `got ${JSON.stringify(seqs)}`);
  assert.deepEqual(seqs.filter((n) => n >= 16), expected.filter((n) => n >= 16), `got ${JSON.stringify(seqs)}`);
  s.close();

  // A session that is not yours cannot be joined.
  const other = connect({ auth: { token: process.env.STRANGER_TOKEN } });
  await connected(other);
  const refused = await ask(other, 'joinSession', { sessionId: sid, sinceSeq: 0 });
  assert.equal(refused.error.code, 'not_found');
  other.close();
  return { replayedAfterReconnect: seqs.length };
});
