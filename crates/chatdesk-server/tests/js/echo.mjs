// The bare /echo namespace the benchmark compares /chat against. With ECHO=on: a send is
// acknowledged with the sender's next seq and relayed, in order, to the room's other members
// only. With ECHO=off (the default setting): the namespace does not exist.
import { io } from 'socket.io-client';
import { BASE, connected, ask, collect, once, main } from './lib.mjs';

const echo = (room) => io(`${BASE}/echo`, { transports: ['websocket'], reconnection: false, auth: { room } });

main(async (assert) => {
  if (process.env.ECHO !== 'on') {
    const s = echo('r1');
    const err = await connected(s).then(() => null, (e) => e);
    assert.ok(err, '/echo must not exist unless echo_namespace is on');
    s.close();
    return { refused: true };
  }
  const [sender, peer, stranger] = [echo('r1'), echo('r1'), echo('r2')];
  await Promise.all([sender, peer, stranger].map(connected));
  const own = collect(sender, 'newMessage');
  const elsewhere = collect(stranger, 'newMessage');
  const relayed = collect(peer, 'newMessage');
  const second = once(peer, 'newMessage', { where: (m) => m.seq === 2 });
  const acks = await Promise.all([ask(sender, 'sendMessage', { content: 'a' }), ask(sender, 'sendMessage', { content: 'b' })]);
  assert.deepEqual(acks.map((a) => a.seq).sort(), [1, 2]);
  await second;
  assert.deepEqual(relayed.map((m) => [m.sessionId, m.seq]), [['r1', 1], ['r1', 2]], 'relayed in seq order');
  assert.equal(own.length, 0, 'the sender is not echoed to itself');
  assert.equal(elsewhere.length, 0, 'other rooms hear nothing');
  [sender, peer, stranger].forEach((s) => s.close());
  return { relayed: relayed.length };
});
