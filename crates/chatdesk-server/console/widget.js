// The visitor widget: a site adds
//   <script src="https://chat.example.com/widget.js" data-business="shop" async></script>
// and gets a chat bubble. Everything it shows lives in a shadow root, so the host page's
// styles neither reach it nor are touched. An anonymous visitor is a random UUID kept in
// this browser (its bearer secret); a signed-in customer is whoever the host page proves
// with `window.chatdesk = {token}` (a JWT the host's back end issued) or `{user_id,
// user_hash}` (seed 002's HMAC of the id, made by the host's back end), never an asserted id.
(() => {
  const script = document.currentScript;
  const origin = new URL(script.src).origin;
  const business = script.dataset.business || undefined;
  const KEY = 'chatdesk.visitor';
  const visitor = localStorage.getItem(KEY) || crypto.randomUUID();
  localStorage.setItem(KEY, visitor);

  const state = { session: null, messages: new Map(), pending: [], readUpTo: 0, position: null, stop: null };

  function credentials() {
    const who = window.chatdesk || {};
    if (who.token) return { authorization: `Bearer ${who.token}` };
    if (who.user_id) return { 'x-user-id': who.user_id, 'x-user-hash': who.user_hash };
    return { 'x-visitor-id': visitor };
  }

  async function api(method, path, body) {
    const res = await fetch(`${origin}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...credentials() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await res.json().catch(() => null);
    if (!res.ok) {
      const err = new Error(data?.error?.message || `HTTP ${res.status}`);
      err.status = res.status;
      throw err;
    }
    return data;
  }

  // --- the bubble and the panel ------------------------------------------------------------

  const host = document.createElement('div');
  host.id = 'chatdesk-widget';
  const root = host.attachShadow({ mode: 'open' });
  root.innerHTML = `
    <style>
      :host { all: initial; }
      * { box-sizing: border-box; font: 15px/1.4 system-ui, sans-serif; }
      .bubble { position: fixed; right: 1rem; bottom: 1rem; border: 0; border-radius: 2rem; padding: .8rem 1.2rem; background: #1f5fbf; color: #fff; cursor: pointer; box-shadow: 0 2px 8px #0004; z-index: 2147483000; }
      .panel { position: fixed; right: 1rem; bottom: 4.5rem; width: min(22rem, calc(100vw - 2rem)); height: min(32rem, calc(100vh - 6rem)); display: flex; flex-direction: column; background: #fff; color: #1d2330; border: 1px solid #c9ced8; border-radius: 10px; box-shadow: 0 4px 20px #0003; z-index: 2147483000; }
      .panel[hidden] { display: none; }
      header { display: flex; align-items: center; gap: .5rem; padding: .5rem .7rem; border-bottom: 1px solid #e3e6eb; }
      header h2 { font-weight: 600; margin: 0 auto 0 0; }
      button { cursor: pointer; border: 1px solid #1f5fbf; background: #fff; color: #1f5fbf; border-radius: 6px; padding: .25rem .6rem; }
      button:focus-visible, textarea:focus-visible { outline: 3px solid #f0a500; }
      .status { padding: .3rem .7rem; color: #5b6475; font-size: .85rem; min-height: 1.6rem; }
      ol { list-style: none; margin: 0; padding: .5rem .7rem; flex: 1; overflow-y: auto; }
      li { margin: .3rem 0; padding: .35rem .6rem; border-radius: 8px; background: #eef0f3; max-width: 85%; word-wrap: break-word; }
      li.mine { background: #dce8ff; margin-left: auto; }
      li.system { background: transparent; color: #5b6475; font-size: .85rem; }
      .tick { color: #1f5fbf; font-size: .8rem; }
      form { display: flex; gap: .4rem; padding: .5rem; border-top: 1px solid #e3e6eb; }
      form.rate { flex-wrap: wrap; align-items: center; }
      form.offline { flex-direction: column; }
      form.offline input { padding: .3rem; border: 1px solid #c9ced8; border-radius: 6px; }
      form[hidden] { display: none; }
      fieldset { border: 0; margin: 0; padding: 0; width: 100%; }
      form.rate input[name=comment] { flex: 1; padding: .3rem; border: 1px solid #c9ced8; border-radius: 6px; }
      .attach { border: 1px solid #1f5fbf; color: #1f5fbf; border-radius: 6px; padding: .25rem .5rem; cursor: pointer; align-self: center; }
      .attach:focus-within { outline: 3px solid #f0a500; }
      li button { border: 0; background: none; padding: 0 .2rem; font-size: .75rem; text-decoration: underline; color: #1f5fbf; }
      .files { display: block; margin-top: .25rem; }
      .files img { max-width: 100%; border-radius: 4px; display: block; }
      .files a { color: #1f5fbf; }
      textarea { flex: 1; resize: none; height: 2.6rem; padding: .4rem; border: 1px solid #c9ced8; border-radius: 6px; }
      .send { background: #1f5fbf; color: #fff; }
      .hidden-label { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
    </style>
    <button class="bubble" type="button" aria-expanded="false" aria-controls="chatdesk-panel">Chat with us</button>
    <section class="panel" id="chatdesk-panel" role="dialog" aria-label="Chat" hidden>
      <header><h2>Chat</h2><button type="button" class="new">New chat</button><button type="button" class="close" aria-label="Close chat">×</button></header>
      <p class="status" role="status" aria-live="polite"></p>
      <ol aria-label="Messages" aria-live="polite"></ol>
      <p class="status typing" aria-live="polite"></p>
      <form>
        <label class="hidden-label" for="chatdesk-text">Message</label>
        <textarea id="chatdesk-text" placeholder="Write a message…" required></textarea>
        <label class="attach">Attach<input type="file" class="hidden-label" aria-label="Attach a file"></label>
        <button class="send" type="submit">Send</button>
      </form>
      <form class="offline" hidden>
        <label for="chatdesk-name">Your name</label><input id="chatdesk-name" name="name" required maxlength="200" autocomplete="name">
        <label for="chatdesk-email">Your email</label><input id="chatdesk-email" name="email" type="email" required autocomplete="email">
        <label for="chatdesk-offline">Your message</label><textarea id="chatdesk-offline" name="message" required></textarea>
        <button class="send" type="submit">Leave a message</button>
      </form>
      <form class="rate" hidden>
        <fieldset><legend>How did we do?</legend>
          ${[1, 2, 3, 4, 5].map((n) => `<label><input type="radio" name="score" value="${n}" required> ${n}★</label>`).join('')}
        </fieldset>
        <label class="hidden-label" for="chatdesk-comment">Comment</label>
        <input id="chatdesk-comment" name="comment" placeholder="A comment (optional)" maxlength="1000">
        <button class="send" type="submit">Rate</button>
      </form>
    </section>`;
  const $ = (sel) => root.querySelector(sel);
  const bubble = $('.bubble');
  const panel = $('.panel');
  const list = $('ol');
  const text = $('textarea');

  bubble.addEventListener('click', () => toggle(panel.hidden));
  $('.close').addEventListener('click', () => toggle(false));
  $('.new').addEventListener('click', () => start(true));
  root.addEventListener('keydown', (e) => { if (e.key === 'Escape') toggle(false); });
  $('form').addEventListener('submit', (e) => {
    e.preventDefault();
    const content = text.value.trim();
    if (!content) return;
    text.value = '';
    stopTyping();
    send(content);
  });
  text.addEventListener('input', () => (text.value.trim() ? startTyping() : stopTyping()));
  $('input[type=file]').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    e.target.value = '';
    if (!file || !state.session) return;
    setStatus(`Uploading ${file.name}…`);
    const form = new FormData();
    form.append('file', file, file.name);
    try {
      const res = await fetch(`${origin}/v1/sessions/${state.session.id}/attachments`, { method: 'POST', headers: credentials(), body: form });
      const data = await res.json().catch(() => null);
      if (!res.ok) throw new Error(data?.error?.message || `HTTP ${res.status}`);
      setStatus('');
      send('', [data.id], file.name);
    } catch (err) {
      setStatus(err.message);
    }
  });
  list.addEventListener('click', async (e) => {
    const seq = Number(e.target.dataset?.edit || e.target.dataset?.remove);
    if (!seq) return;
    const path = `/v1/sessions/${state.session.id}/messages/${seq}`;
    try {
      let m;
      if (e.target.dataset.edit) {
        const content = prompt('Edit message', state.messages.get(seq)?.content ?? '');
        if (content == null || !content.trim()) return;
        m = await api('PATCH', path, { content });
      } else {
        if (!confirm('Delete this message?')) return;
        m = await api('DELETE', path);
      }
      state.messages.set(m.seq, stored(m, true));
      render();
    } catch (err) {
      setStatus(err.message);
    }
  });
  $('form.rate').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target;
    try {
      await api('POST', `/v1/sessions/${state.session.id}/rating`, { score: Number(f.score.value), comment: f.comment.value || null });
      state.rated = true;
    } catch (err) {
      // Rated before (another tab): the same as rated now.
      state.rated = err.status === 409;
      if (!state.rated) setStatus(err.message);
    }
    render();
  });
  text.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); $('form').requestSubmit(); }
  });
  window.addEventListener('online', () => flush());

  function toggle(open) {
    panel.hidden = !open;
    bubble.setAttribute('aria-expanded', String(open));
    if (open) {
      if (!state.session && !state.offline) openOrLeaveMessage();
      text.focus();
    } else {
      bubble.focus();
    }
  }

  // --- the conversation --------------------------------------------------------------------

  /** Within business hours, the conversation; outside them, the away message and a form. */
  async function openOrLeaveMessage() {
    const query = business ? `?business_id=${encodeURIComponent(business)}` : '';
    const now = await api('GET', `/v1/business-hours/now${query}`).catch(() => ({ open: true }));
    if (now.open) return start(false);
    state.offline = true;
    $('form').hidden = true;
    $('.new').hidden = true;
    $('form.offline').hidden = false;
    setStatus(now.away_message || 'We are away right now: leave a message and we will write back.');
    $('#chatdesk-name').focus();
  }

  $('form.offline').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target;
    try {
      await api('POST', '/v1/offline-messages', { business_id: business, name: f.elements.name.value, email: f.elements.email.value, message: f.elements.message.value });
      f.hidden = true;
      setStatus('Thank you: we will write back by email.');
    } catch (err) {
      setStatus(err.message);
    }
  });

  /** Resume the visitor's open conversation (or, `fresh`, start another). */
  async function start(fresh) {
    state.stop?.();
    try {
      const opened = await api('POST', '/v1/sessions', { business_id: business, force_new: fresh });
      state.session = opened.session;
      state.messages = new Map();
      state.readUpTo = 0;
      state.position = null;
      state.rated = false;
      const [page, read] = await Promise.all([
        api('GET', `/v1/sessions/${state.session.id}/messages?before_seq=${Number.MAX_SAFE_INTEGER}&limit=50`),
        api('GET', `/v1/sessions/${state.session.id}/read`),
      ]);
      for (const m of page.messages) state.messages.set(m.seq, stored(m, m.sender_type === 'customer'));
      const owner = state.session.owner?.id;
      state.readUpTo = Math.max(0, ...read.cursors.filter((c) => c.reader.id !== owner).map((c) => c.up_to_seq));
      if (state.session.status === 'waiting') {
        state.position = (await api('GET', `/v1/sessions/${state.session.id}/queue`)).position ?? null;
      }
      render();
      follow();
    } catch (e) {
      setStatus(`Cannot reach the chat (${e.message}); retrying…`);
      setTimeout(() => start(fresh), 3000);
    }
  }

  /** The session's events, from the last seq shown; reconnects replay what was missed. */
  function follow() {
    const id = state.session.id;
    const controller = new AbortController();
    let stopped = false;
    state.stop = () => { stopped = true; controller.abort(); };
    (async () => {
      for (let wait = 500; !stopped; wait = Math.min(wait * 2, 8000)) {
        try {
          const last = Math.max(0, ...state.messages.keys());
          const res = await fetch(`${origin}/v1/sessions/${id}/events?since_seq=${last}`, {
            headers: credentials(), signal: controller.signal,
          });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          wait = 500;
          flush();
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
              }
              if (data) handle(name, JSON.parse(data));
            }
          }
        } catch (e) {
          if (stopped) return;
        }
        await new Promise((r) => setTimeout(r, wait));
      }
    })();
  }

  function handle(name, data) {
    if (name === 'newMessage') {
      const mine = data.senderType === 'customer';
      // One's own message, come back live before its send was answered, is no longer pending.
      const i = mine ? state.pending.findIndex((p) => p.content === data.content) : -1;
      if (i >= 0) state.pending.splice(i, 1);
      state.messages.set(data.seq, { seq: data.seq, content: data.content, sender_type: data.senderType, mine, files: files(data.attachments) });
      if (data.senderType !== 'customer' && !panel.hidden) markRead();
    } else if (name === 'messageUpdated' || name === 'messageDeleted') {
      const m = state.messages.get(data.seq);
      if (m) Object.assign(m, name === 'messageUpdated' ? { content: data.content, edited: true } : { content: '', deleted: true });
    } else if (name === 'queuePosition') {
      state.position = data.position;
    } else if (name === 'messagesRead') {
      state.readUpTo = Math.max(state.readUpTo, data.upToSeq);
    } else if (name === 'userTyping') {
      showTyping(data.isTyping ? 'The agent is typing…' : '');
      return;
    } else if (name === 'sessionUpdated') {
      state.session = { ...state.session, status: data.status, agent_id: data.agentId };
      if (data.status !== 'waiting') state.position = null;
    }
    render();
  }

  /** A message as the panel keeps it, from the API's view. */
  function stored(m, mine) {
    return { seq: m.seq, content: m.content, sender_type: m.sender_type, mine, edited_at: m.edited_at, deleted_at: m.deleted_at, files: files(m.attachments) };
  }

  /** Attachments as both channels give them (REST snake_case, events camelCase). */
  function files(list) {
    return (list || []).map((a) => ({ name: a.name, url: a.url, thumb: a.thumbnail_url ?? a.thumbnailUrl }));
  }

  function filesHtml(list) {
    if (!list?.length) return '';
    return `<span class="files">${list.map((f) => (f.thumb
      ? `<a href="${escape(origin + f.url)}" target="_blank" rel="noopener"><img src="${escape(origin + f.thumb)}" alt="${escape(f.name)}"></a>`
      : `<a href="${escape(origin + f.url)}" target="_blank" rel="noopener">${escape(f.name)}</a>`)).join('')}</span>`;
  }

  /** Queue a message; it goes out (once: a client id makes a retry harmless) when it can. */
  function send(content, attachment_ids = [], label = content) {
    state.pending.push({ content, attachment_ids, label, client_msg_id: crypto.randomUUID() });
    render();
    flush();
  }

  let flushing = false;
  async function flush() {
    if (flushing || !state.session) return;
    flushing = true;
    let next;
    try {
      while (state.pending.length) {
        next = state.pending[0];
        const { content, attachment_ids, client_msg_id } = next;
        const m = await api('POST', `/v1/sessions/${state.session.id}/messages`, { content, attachment_ids, client_msg_id });
        state.pending = state.pending.filter((p) => p !== next);
        state.messages.set(m.seq, stored(m, true));
        render();
      }
    } catch (e) {
      // Offline or refused: kept, and tried again when the connection is back.
      if (e.status && e.status < 500 && e.status !== 429) {
        state.pending = state.pending.filter((p) => p !== next);
        setStatus(e.message);
      } else {
        setTimeout(flush, 2000);
      }
    } finally {
      flushing = false;
    }
  }

  // Typing both ways, as the console does (console/typing.js): a notice renewed every 3 s
  // while writing, "stopped" on send; the agent's shown for 6 s unless renewed.
  let typingSince = 0;
  let typingShown;
  function startTyping() {
    if (!state.session || Date.now() - typingSince < 3000) return;
    typingSince = Date.now();
    api('POST', `/v1/sessions/${state.session.id}/typing`, { is_typing: true }).catch(() => {});
  }
  function stopTyping() {
    if (!typingSince || !state.session) return;
    typingSince = 0;
    api('POST', `/v1/sessions/${state.session.id}/typing`, { is_typing: false }).catch(() => {});
  }
  function showTyping(message) {
    clearTimeout(typingShown);
    $('.typing').textContent = message;
    if (message) typingShown = setTimeout(() => showTyping(''), 6000);
  }

  function markRead() {
    const last = Math.max(0, ...state.messages.keys());
    if (last) api('POST', `/v1/sessions/${state.session.id}/read`, { up_to_seq: last }).catch(() => {});
  }

  function setStatus(message) {
    $('.status').textContent = message;
  }

  function render() {
    const s = state.session;
    if (s?.status === 'closed') setStatus('This conversation is closed. Start a new chat to write again.');
    else if (state.position) setStatus(`You are number ${state.position} in the queue.`);
    else if (s?.status === 'waiting') setStatus('Waiting for an agent…');
    else setStatus('');
    $('form').hidden = s?.status === 'closed';
    $('form.rate').hidden = s?.status !== 'closed' || state.rated;
    if (s?.status === 'closed' && state.rated) setStatus('Thank you for your rating. Start a new chat to write again.');
    const shown = [...state.messages.values()].sort((a, b) => a.seq - b.seq).map((m) => {
      const kind = m.sender_type === 'system' ? 'system' : m.mine ? 'mine' : 'theirs';
      const tick = m.mine && m.seq <= state.readUpTo ? ' <span class="tick" aria-label="read">✓✓</span>' : '';
      if (m.deleted || m.deleted_at) return `<li class="${kind}"><em>Message deleted</em></li>`;
      const edited = m.edited || m.edited_at ? ' <span class="tick">(edited)</span>' : '';
      const tools = m.mine && s?.status !== 'closed'
        ? ` <button type="button" data-edit="${m.seq}" aria-label="Edit message ${m.seq}">Edit</button> <button type="button" data-remove="${m.seq}" aria-label="Delete message ${m.seq}">Delete</button>`
        : '';
      return `<li class="${kind}">${escape(m.content)}${filesHtml(m.files)}${edited}${tick}${tools}</li>`;
    });
    const waiting = state.pending.map((p) => `<li class="mine" data-pending>${escape(p.label)} <span class="tick">sending…</span></li>`);
    list.innerHTML = shown.concat(waiting).join('');
    list.scrollTop = list.scrollHeight;
  }

  function escape(value) {
    return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  }

  document.body.appendChild(host);
})();
