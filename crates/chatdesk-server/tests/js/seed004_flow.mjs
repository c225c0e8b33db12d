// Seed 004's React flow with the official client: a user and an admin connect and
// authenticate (handshake token, and the `authenticate` event), the user's first message
// reaches the admin, the admin replies, typing goes both ways, markAsRead -> messagesRead.
import { connect, connected, once, ask, collect, main } from './lib.mjs';

main(async (assert) => {
  const user = connect({ auth: { token: process.env.USER_TOKEN } });
  const admin = connect();
  await Promise.all([connected(user), connected(admin)]);

  // Nothing but authenticate works before identity is proved.
  const early = await ask(admin, 'sendMessage', { content: 'not yet' });
  assert.equal(early.error.code, 'unauthenticated');
  const who = await ask(admin, 'authenticate', { token: process.env.ADMIN_TOKEN });
  assert.equal(who.ok, true);
  assert.equal(who.role, 'admin');

  // Scenario 1: the user's first message starts a conversation and reaches the admin.
  const adminSees = once(admin, 'newMessage');
  const first = await ask(user, 'sendMessage', { content: 'I need help!' });
  assert.ok(first.conversationId, JSON.stringify(first));
  assert.equal(first.seq, 1);
  const seen = await adminSees;
  for (const f of ['id', 'conversationId', 'senderId', 'content', 'isRead', 'createdAt', 'seq', 'sessionId']) {
    assert.ok(f in seen, `newMessage lacks ${f}`);
  }
  assert.equal(seen.content, 'I need help!');
  assert.equal(seen.conversationId, first.conversationId);

  // The admin replies; the user receives it.
  const userSees = once(user, 'newMessage', { where: (m) => m.seq === 2 });
  const reply = await ask(admin, 'sendMessage', { conversationId: first.conversationId, content: 'How can I help you?' });
  assert.equal(reply.seq, 2);
  assert.equal((await userSees).content, 'How can I help you?');

  // Typing both ways; never to oneself; throttled per client.
  const adminTypingEvents = collect(admin, 'userTyping');
  const userOwnTyping = collect(user, 'userTyping');
  const adminTyping = once(admin, 'userTyping');
  for (let i = 0; i < 5; i++) user.emit('typing', { conversationId: first.conversationId, isTyping: true });
  const t1 = await adminTyping;
  assert.equal(t1.isTyping, true);
  assert.equal(t1.conversationId, first.conversationId);
  const adminStopped = once(admin, 'userTyping', { where: (t) => t.isTyping === false });
  user.emit('typing', { conversationId: first.conversationId, isTyping: false });
  await adminStopped;
  assert.equal(adminTypingEvents.filter((t) => t.isTyping).length, 1, 'five quick typing events arrive as one');
  assert.equal(userOwnTyping.length, 0, 'nobody is told about their own typing');
  // The admin types and then goes quiet: typing stops by itself after a few seconds.
  const userTyping = once(user, 'userTyping', { where: (t) => t.isTyping === true });
  admin.emit('typing', { conversationId: first.conversationId, isTyping: true });
  assert.equal((await userTyping).isTyping, true);
  const started = Date.now();
  await once(user, 'userTyping', { where: (t) => t.isTyping === false, timeout: 10000 });
  const autoStopMs = Date.now() - started;
  assert.ok(autoStopMs >= 4000, `stopped after ${autoStopMs} ms`);

  // markAsRead moves the cursor, tells the other side, and pushes the reader's unread count.
  const readSeen = once(admin, 'messagesRead');
  const unread = once(user, 'unreadCount');
  const receipt = await ask(user, 'markAsRead', { conversationId: first.conversationId });
  assert.equal(receipt.lastReadSeq, 2);
  const read = await readSeen;
  assert.equal(read.conversationId, first.conversationId);
  assert.equal(read.upToSeq, 2);
  assert.equal((await unread).unreadCount, 0);

  // Errors come back as {error: {code, message}}.
  const empty = await ask(user, 'sendMessage', { conversationId: first.conversationId, content: '   ' });
  assert.equal(empty.error.code, 'empty_content');
  const foreign = await ask(user, 'sendMessage', { conversationId: 999999, content: 'hello?' });
  assert.equal(foreign.error.code, 'not_found');
  // A field of the wrong type is refused, not read as absent (which for a user would mean
  // "my own conversation"), and nothing is sent.
  for (const bad of [
    { conversationId: 'first', content: 'typo' },
    { conversationId: first.conversationId, content: 42 },
    'just a string',
  ]) {
    const refused = await ask(user, 'sendMessage', bad);
    assert.equal(refused.error?.code, 'invalid_body', JSON.stringify(refused));
  }
  const badRead = await ask(user, 'markAsRead', { conversationId: { id: 1 } });
  assert.equal(badRead.error?.code, 'invalid_body', JSON.stringify(badRead));
  // A conversation number sent as a string of digits is read as the number.
  const asText = await ask(user, 'markAsRead', { conversationId: String(first.conversationId) });
  assert.equal(asText.conversationId, first.conversationId, JSON.stringify(asText));

  // Scenario 2: the admin starts a conversation with another user, who is told at once.
  const other = connect({ auth: { token: process.env.USER2_TOKEN } });
  await connected(other);
  const otherSees = once(other, 'newMessage');
  const opened = await ask(admin, 'sendMessage', { userId: Number(process.env.USER2_ID), content: 'Hello from support' });
  assert.ok(opened.conversationId, JSON.stringify(opened));
  assert.notEqual(opened.conversationId, first.conversationId);
  const got = await otherSees;
  assert.equal(got.content, 'Hello from support');
  assert.equal(got.conversationId, opened.conversationId);
  const noUser = await ask(admin, 'sendMessage', { content: 'to whom?' });
  assert.equal(noUser.error.code, 'missing_field');
  const oddUser = await ask(admin, 'sendMessage', { userId: true, content: 'to whom?' });
  assert.equal(oddUser.error.code, 'invalid_user_id');

  user.close();
  admin.close();
  other.close();
  return { conversationId: first.conversationId, typing: t1, read, autoStopMs };
});
