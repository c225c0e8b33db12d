// The seed's React component exactly as written (connect, then emit authenticate with
// {userId, email, role}), against a server in --dev; and the polling transport.
import { io } from 'socket.io-client';
import { once, ask, main, BASE } from './lib.mjs';

main(async (assert) => {
  const user = { id: 7, email: 'user@example.com', role: 'USER' };
  const adminUser = { id: 1, email: 'admin@example.com', role: 'ADMIN' };
  const newSocket = io(`${BASE}/chat`, { transports: ['websocket'], reconnection: false });
  newSocket.emit('authenticate', { userId: user.id, email: user.email, role: user.role });
  const admin = io(`${BASE}/chat`, { transports: ['polling'], reconnection: false });
  admin.emit('authenticate', { userId: adminUser.id, email: adminUser.email, role: adminUser.role });
  await Promise.all([once(newSocket, 'authenticated'), once(admin, 'authenticated')]);

  const arrives = once(admin, 'newMessage');
  newSocket.emit('sendMessage', { content: 'Hello!' });
  const m = await arrives;
  assert.equal(m.senderId, 7);
  const back = once(newSocket, 'newMessage', { where: (x) => x.senderId === 1 });
  const reply = await ask(admin, 'sendMessage', { conversationId: m.conversationId, content: 'Hi, over polling' });
  assert.equal(reply.seq, 2);
  assert.equal((await back).content, 'Hi, over polling');
  newSocket.close();
  admin.close();
  return { conversationId: m.conversationId, transport: 'polling' };
});
