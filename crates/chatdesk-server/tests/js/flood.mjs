// A socket that floods events is cut; one that never proves who it is is cut too.
// Run with socket_events = {burst: 20, every_secs: 1} and unauthenticated_socket_secs = 1.
import { connect, connected, once, main } from './lib.mjs';

main(async (assert) => {
  const token = process.env.USER_TOKEN;
  const flooder = connect({ auth: { token } });
  await connected(flooder);
  const cut = once(flooder, 'disconnect', { timeout: 10000 });
  for (let i = 0; i < 2000; i++) {
    flooder.emit('typing', { conversationId: 1, isTyping: i % 2 === 0 });
  }
  const reason = await cut;
  assert.ok(['io server disconnect', 'transport close'].includes(reason), `cut, not ${reason}`);

  // A polite client on the same server is unaffected.
  const polite = connect({ auth: { token } });
  await connected(polite);
  const ok = await polite.timeout(5000).emitWithAck('markAsRead', { conversationId: 999999 });
  assert.ok(ok.error, 'answered (with its own error), not cut');
  assert.equal(polite.connected, true);
  polite.close();

  const started = Date.now();
  const anonymous = connect();
  await connected(anonymous);
  const gone = await once(anonymous, 'disconnect', { timeout: 10000 });
  assert.equal(gone, 'io server disconnect');
  return { ok: true, anonymousCutAfterMs: Date.now() - started };
});
