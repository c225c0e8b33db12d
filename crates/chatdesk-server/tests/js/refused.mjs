// Credentials that prove nothing are refused: a bad handshake token cannot connect; the
// seed's bare {userId, email, role} is not believed outside --dev; an unauthenticated socket
// can do nothing.
import { connect, connected, ask, main } from './lib.mjs';

main(async (assert) => {
  const bad = connect({ auth: { token: 'not-a-real-token' } });
  const err = await connected(bad).then(() => null, (e) => e);
  assert.ok(err, 'a bad token must not connect');
  assert.match(String(err.message), /invalid_token/);
  bad.close();

  const anon = connect();
  await connected(anon);
  const claimed = await ask(anon, 'authenticate', { userId: 1, email: 'admin@example.com', role: 'ADMIN' });
  assert.equal(claimed.error.code, 'unverified_user');
  const send = await ask(anon, 'sendMessage', { content: 'hi' });
  assert.equal(send.error.code, 'unauthenticated');
  const read = await ask(anon, 'markAsRead', { conversationId: 1 });
  assert.equal(read.error.code, 'unauthenticated');
  const join = await ask(anon, 'joinSession', { sessionId: '00000000-0000-7000-8000-000000000000', sinceSeq: 0 });
  assert.equal(join.error.code, 'unauthenticated');
  anon.close();
  return { refused: true };
});
