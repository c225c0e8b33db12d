// A visitor's socket at login: its sessions move to the account, the socket is told
// (identityLinked), authenticates again with the account's token on the same connection,
// and goes on writing to the moved session.
import { connect, connected, once, ask, rest, BASE, main } from './lib.mjs';

main(async (assert) => {
  const visitor = process.env.VISITOR;
  const token = process.env.USER_TOKEN;
  const opened = await fetch(`${BASE}/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-visitor-id': visitor },
    body: JSON.stringify({ topic: 'before login' }),
  }).then((r) => r.json());
  const sid = opened.session.id;

  const s = connect({ auth: { token: visitor } });
  await connected(s);
  const linked = once(s, 'identityLinked');
  const moved = await rest('POST', '/v1/me/link-visitor', token, { visitor_id: visitor });
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  const told = await linked;
  assert.ok(told.userId, JSON.stringify(told));

  // As the visitor, the moved session is no longer this socket's.
  const before = await ask(s, 'sendMessage', { sessionId: sid, content: 'as the visitor' });
  assert.equal(before.error?.code, 'not_found', JSON.stringify(before));

  // Someone else's token is still refused on this socket.
  const stranger = await ask(s, 'authenticate', { token: process.env.STRANGER_TOKEN });
  assert.equal(stranger.error?.code, 'already_authenticated', JSON.stringify(stranger));

  const again = await ask(s, 'authenticate', { token });
  assert.equal(again.ok, true, JSON.stringify(again));
  const sent = await ask(s, 'sendMessage', { sessionId: sid, content: 'as the account' });
  assert.equal(sent.content, 'as the account', JSON.stringify(sent));
  // And the account's live events reach it.
  const live = once(s, 'newMessage', { where: (m) => m.content === 'from REST' });
  await rest('POST', `/v1/sessions/${sid}/messages`, token, { content: 'from REST' });
  await live;
  s.close();
  return { ok: true };
});
