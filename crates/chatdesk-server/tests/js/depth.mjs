// The live-chat depth events with the official socket.io-client: a private note reaches the
// agent's socket and never the customer's; an edit and a deletion reach the agent; a rating
// of the closed conversation reaches the agent; a file sent over the socket reaches the agent
// with a link that fetches it.
import { BASE, connect, connected, once, collect, rest, until, ask, main } from './lib.mjs';

const { CUSTOMER_TOKEN, AGENT_TOKEN } = process.env;

main(async (assert) => {
  const opened = await rest('POST', '/v1/sessions', CUSTOMER_TOKEN, { business_id: 'shop' });
  assert.equal(opened.status, 201, JSON.stringify(opened.body));
  const sid = opened.body.session.id;
  const customer = connect({ auth: { token: CUSTOMER_TOKEN } });
  const agent = connect({ auth: { token: AGENT_TOKEN } });
  await Promise.all([connected(customer), connected(agent)]);
  const customerNotes = collect(customer, 'noteCreated');
  const customerMessages = collect(customer, 'newMessage');

  await rest('POST', `/v1/sessions/${sid}/messages`, CUSTOMER_TOKEN, { content: 'parcel lost' });
  const note = once(agent, 'noteCreated', { where: (n) => n.sessionId === sid });
  const posted = await rest('POST', `/v1/sessions/${sid}/notes`, AGENT_TOKEN, { content: 'refund approved' });
  assert.equal(posted.status, 201);
  assert.equal((await note).content, 'refund approved');
  // A message sent after the note reaches the customer; the note never did.
  await rest('POST', `/v1/sessions/${sid}/messages`, AGENT_TOKEN, { content: 'after the note' });
  await until('the customer hears the reply', () => customerMessages.some((m) => m.content === 'after the note'));
  assert.equal(customerNotes.length, 0, 'no note on the customer\'s socket');

  // A file: uploaded over REST, sent over the socket, seen with its link on the other side.
  const form = new FormData();
  form.append('file', new Blob(['tracking number: 1Z999']), 'tracking.txt');
  const up = await fetch(`${BASE}/v1/sessions/${sid}/attachments`, {
    method: 'POST', headers: { authorization: `Bearer ${CUSTOMER_TOKEN}` }, body: form,
  });
  assert.equal(up.status, 201, await up.clone().text());
  const file = await up.json();
  assert.equal(file.content_type, 'text/plain');
  const withFile = once(agent, 'newMessage', { where: (m) => m.sessionId === sid && m.attachments });
  const ack = await ask(customer, 'sendMessage', { sessionId: sid, content: '', attachmentIds: [file.id] });
  assert.equal(ack.attachments[0].id, file.id, JSON.stringify(ack));
  const got = (await withFile).attachments[0];
  assert.deepEqual([got.name, got.contentType, got.size], ['tracking.txt', 'text/plain', 22]);
  const fetched = await fetch(`${BASE}${got.url}`);
  assert.equal(await fetched.text(), 'tracking number: 1Z999');

  const updated = once(agent, 'messageUpdated', { where: (m) => m.sessionId === sid });
  await rest('PATCH', `/v1/sessions/${sid}/messages/1`, CUSTOMER_TOKEN, { content: 'parcel late' });
  const u = await updated;
  assert.deepEqual([u.seq, u.content], [1, 'parcel late']);
  const deleted = once(agent, 'messageDeleted', { where: (m) => m.sessionId === sid });
  await rest('DELETE', `/v1/sessions/${sid}/messages/1`, CUSTOMER_TOKEN);
  assert.equal((await deleted).seq, 1);

  await rest('POST', `/v1/sessions/${sid}/end`, AGENT_TOKEN, {});
  const rated = once(agent, 'sessionRated', { where: (r) => r.sessionId === sid });
  const rating = await rest('POST', `/v1/sessions/${sid}/rating`, CUSTOMER_TOKEN, { score: 4 });
  assert.equal(rating.status, 201, JSON.stringify(rating.body));
  assert.equal((await rated).score, 4);
  customer.close();
  agent.close();
  return { ok: true };
});
