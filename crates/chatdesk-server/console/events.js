// The caller's live events: `/v1/events` (Server-Sent Events) read with fetch, so that the
// token goes in a header, and read again from the last event id after a drop.
import { fromEventFiles } from './files.js';

/** Read `/v1/events` until stopped, reconnecting with the last event id. */
export function follow(token, onEvent) {
  let stopped = false;
  let lastId = null;
  const controller = new AbortController();
  (async () => {
    let wait = 250;
    while (!stopped) {
      try {
        const res = await fetch('/v1/events', {
          headers: { authorization: `Bearer ${token}`, ...(lastId ? { 'last-event-id': lastId } : {}) },
          signal: controller.signal,
        });
        if (!res.ok) throw new Error(`events: HTTP ${res.status}`);
        wait = 250;
        onEvent('connected', null);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let name = 'message';
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('event:')) name = line.slice(6).trim();
              else if (line.startsWith('data:')) data += line.slice(5).trim();
              else if (line.startsWith('id:')) lastId = line.slice(3).trim();
            }
            if (data) onEvent(name, JSON.parse(data));
          }
        }
      } catch (e) {
        if (stopped) return;
      }
      onEvent('disconnected', null);
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 5000);
    }
  })();
  return () => { stopped = true; controller.abort(); };
}

/** Session fields as the REST API names them (events name them in camelCase). */
export function normalize(s) {
  const out = {};
  for (const [k, v] of Object.entries(s)) out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
  return out;
}

/** A message as the REST API shows it, from a `newMessage` event. */
export function fromEvent(m) {
  return {
    id: m.id,
    session_id: m.sessionId,
    seq: m.seq,
    // Seed 004's clients read numeric user ids as numbers; the REST API gives strings.
    sender: { id: String(m.senderId) },
    sender_type: m.senderType,
    content: m.content,
    created_at: m.createdAt,
    attachments: fromEventFiles(m.attachments),
  };
}
