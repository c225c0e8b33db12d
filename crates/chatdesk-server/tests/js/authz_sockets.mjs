// The authorization table over Socket.IO: every actor (PROBES.actors, each a handshake
// token: a JWT, an API key or a visitor UUID) sends every session event that names a
// session (PROBES.sessions) and reports each acknowledgement; the Rust side holds the rule
// table and judges them.
import { connect, connected, ask, main } from './lib.mjs';

main(async () => {
  const { actors, sessions } = JSON.parse(process.env.PROBES);
  const results = [];
  for (const actor of actors) {
    const socket = connect({ auth: { token: actor.token } });
    await connected(socket);
    for (const s of sessions) {
      const probes = [
        ['joinSession', { sessionId: s.id, sinceSeq: 0 }],
        ['sendMessage', { sessionId: s.id, content: 'socket-written' }],
        ['markAsRead', { sessionId: s.id }],
        ['markAsRead', { conversationId: s.number }],
        ['leaveSession', null],
      ];
      for (const [event, data] of probes) {
        if (event === 'leaveSession') {
          socket.emit('leaveSession', { sessionId: s.id });
          continue;
        }
        const ack = await ask(socket, event, data);
        results.push({
          actor: actor.name,
          session: s.id,
          event: `${event} ${Object.keys(data).join(',')}`,
          ok: !ack?.error,
          code: ack?.error?.code ?? null,
        });
      }
    }
    socket.close();
  }
  return { results };
});
