// Socket.IO under unlucky and hostile input (run with trust_unverified_user_ids on, not --dev):
// a claimed role is not believed, typing is tracked per session whatever names it, and a
// joinSession past the end or with a sinceSeq of the wrong type does not cost live delivery.
import { connect, connected, once, ask, rest, main } from './lib.mjs';

main(async (assert) => {
  const token = process.env.USER_TOKEN;
  const agentToken = process.env.AGENT_TOKEN;

  // A trusted user id is a customer, whatever role the client claims.
  const anon = connect();
  await connected(anon);
  const claimed = await ask(anon, 'authenticate', { userId: 'mallory', role: 'ADMIN' });
  assert.equal(claimed.ok, true, JSON.stringify(claimed));
  assert.equal(claimed.role, 'customer', JSON.stringify(claimed));
  anon.close();

  const open = async () => (await rest('POST', '/v1/sessions', token, { force_new: true })).body.session.id;
  const a = await open();
  const b = await open();
  for (let i = 1; i <= 2; i++) {
    await rest('POST', `/v1/sessions/${a}/messages`, token, { content: `m${i}` });
  }

  const agent = connect({ auth: { token: agentToken } });
  await connected(agent);
  const customer = connect({ auth: { token } });
  await connected(customer);
  // Typing in two sessions named by UUID: each is its own, neither throttles the other
  // (the server handles each event in a task of its own, so either may arrive first).
  const typingA = once(agent, 'userTyping', { where: (t) => t.sessionId === a && t.isTyping });
  const typingB = once(agent, 'userTyping', { where: (t) => t.sessionId === b && t.isTyping });
  customer.emit('typing', { sessionId: a, isTyping: true });
  customer.emit('typing', { sessionId: b, isTyping: true });
  await Promise.all([typingA, typingB]);

  // A sinceSeq of the wrong type is refused; one past the end is read as the last seq.
  const wrong = await ask(customer, 'joinSession', { sessionId: a, sinceSeq: '5' });
  assert.equal(wrong.error?.code, 'invalid_body', JSON.stringify(wrong));
  const past = await ask(customer, 'joinSession', { sessionId: a, sinceSeq: 999 });
  assert.equal(past.ok, true, JSON.stringify(past));
  assert.equal(past.replayed, 0);
  assert.equal(past.lastSeq, 2, JSON.stringify(past));
  const next = once(customer, 'newMessage', { where: (m) => m.sessionId === a });
  await rest('POST', `/v1/sessions/${a}/messages`, agentToken, { content: 'after the end' });
  assert.equal((await next).seq, 3);

  // Whoever disconnects mid-sentence stops typing, in every session it was typing in.
  const stopA = once(agent, 'userTyping', { where: (t) => t.sessionId === a && !t.isTyping });
  const stopB = once(agent, 'userTyping', { where: (t) => t.sessionId === b && !t.isTyping });
  customer.close();
  await Promise.all([stopA, stopB]);
  agent.close();
  return { ok: true };
});
