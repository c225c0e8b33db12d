// The agent console: sign in, the inbox, a conversation. Plain ES modules, no build step:
// the server serves this file as it is. Live updates come over `/v1/events` (Server-Sent
// Events read with fetch, so the token goes in a header), sends over REST.

import { showAdmin } from './admin.js';
import { follow, fromEvent, normalize } from './events.js';
import { filesHtml, upload } from './files.js';
import { escape } from './html.js';
import { sessionsLabeled, showLabels } from './labels.js';
import { showNotes } from './notes.js';
import { showReports } from './reports.js';
import { showSearch } from './search.js';
import { typingIndicator, typingNotifier } from './typing.js';

const app = document.getElementById('app');
const state = {
  token: sessionStorage.getItem('chatdesk.token'),
  me: JSON.parse(sessionStorage.getItem('chatdesk.me') || 'null'),
  sessions: new Map(),
  unread: new Map(),
  tab: 'waiting',
  department: '',
  priority: '',
  open: null,
  stream: null,
};

// --- the API -----------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
  }
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(state.token ? { authorization: `Bearer ${state.token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (res.status === 401 && state.token) signOut();
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

// --- live events -------------------------------------------------------------------------

function onEvent(name, data) {
  switch (name) {
    case 'connected':
      setStatus('Live');
      // Whatever happened while the stream was down: read the inbox and the open
      // conversation again from where they were.
      loadInbox().then(() => catchUp());
      break;
    case 'disconnected':
      setStatus('Reconnecting…');
      break;
    case 'sessionCreated':
    case 'sessionUpdated':
    case 'sessionAssigned': {
      const s = normalize(data);
      state.sessions.set(s.id, { ...state.sessions.get(s.id), ...s });
      renderInbox();
      if (state.open?.id === s.id) renderConversationHead();
      break;
    }
    case 'newMessage': {
      const m = fromEvent(data);
      if (state.open?.id === m.session_id) {
        settle(m);
        addMessages([m]);
        markRead();
      } else if (m.sender.id !== String(state.me.id)) {
        state.unread.set(m.session_id, (state.unread.get(m.session_id) || 0) + 1);
        renderInbox();
      }
      break;
    }
    case 'userTyping':
      if (state.open?.id === data.sessionId) {
        state.open.showTyping(data.isTyping ? 'The visitor is typing…' : '');
      }
      break;
    case 'sessionHandedOff':
      if (state.open?.id === data.sessionId) setStatus(`Handed off${data.reason ? `: ${data.reason}` : ''}`);
      break;
    case 'messageUpdated':
    case 'messageDeleted': {
      const m = state.open?.id === data.sessionId && state.open.messages.get(data.seq);
      if (m) {
        Object.assign(m, name === 'messageUpdated'
          ? { content: data.content, edited_at: data.editedAt }
          : { content: '', deleted_at: data.deletedAt });
        renderMessages();
      }
      break;
    }
    case 'noteCreated':
      if (state.open?.id === data.sessionId) state.open.addNote?.(data);
      break;
    case 'messagesRead':
      if (state.open?.id === data.sessionId) {
        state.open.readUpTo = Math.max(state.open.readUpTo || 0, data.upToSeq);
        renderMessages();
      }
      break;
    default:
  }
}

function setStatus(text) {
  const el = document.getElementById('status');
  if (el) el.textContent = text;
}

// --- sign in -----------------------------------------------------------------------------

function signOut() {
  state.stream?.();
  sessionStorage.removeItem('chatdesk.token');
  sessionStorage.removeItem('chatdesk.me');
  Object.assign(state, { token: null, me: null, open: null, stream: null });
  history.replaceState(null, '', location.pathname);
  state.sessions.clear();
  renderLogin();
}

function renderLogin(message = '') {
  app.innerHTML = `
    <form class="login" aria-labelledby="login-title">
      <h1 id="login-title">Sign in to chatdesk</h1>
      <label for="email">Email</label>
      <input id="email" name="email" type="email" autocomplete="username" required>
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required>
      <p class="error" role="alert">${escape(message)}</p>
      <button type="submit">Sign in</button>
    </form>`;
  const form = app.querySelector('form');
  form.email.focus();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = await api('POST', '/v1/auth/login', { email: form.email.value, password: form.password.value });
      if (r.user.role === 'customer') {
        renderLogin('This console is for agents and admins.');
        return;
      }
      state.token = r.access_token;
      state.me = r.user;
      sessionStorage.setItem('chatdesk.token', state.token);
      sessionStorage.setItem('chatdesk.me', JSON.stringify(state.me));
      renderDesk();
    } catch (err) {
      renderLogin(err.message);
    }
  });
}

// --- the desk ----------------------------------------------------------------------------

const RANK = { urgent: 0, high: 1, normal: 2, low: 3 };

const TABS = [
  ['waiting', 'Waiting'],
  ['mine', 'Mine'],
  ['open', 'All open'],
  ['closed', 'Closed'],
];

function renderDesk() {
  app.innerHTML = `
    <header class="bar">
      <h1>chatdesk</h1>
      <span id="status" class="meta" role="status">Connecting…</span>
      <span class="meta">${escape(state.me.name || state.me.email)} (${escape(state.me.role)})</span>
      <span class="meta" id="load" aria-live="polite"></span>
      <label class="visually-hidden" for="presence">Presence</label>
      <select id="presence"><option value="online">Online</option><option value="away">Away</option></select>
      <button type="button" class="quiet" id="reports">Reports</button>
      <button type="button" class="quiet" id="admin">Admin</button>
      <button type="button" class="quiet" id="sign-out">Sign out</button>
    </header>
    <div class="desk">
      <nav class="inbox" aria-label="Inbox">
        <div class="tabs" role="group" aria-label="Which conversations">
          ${TABS.map(([id, label]) => `<button type="button" class="quiet" data-tab="${id}" aria-pressed="${state.tab === id}">${label}</button>`).join('')}
        </div>
        <div class="filters">
          <label class="visually-hidden" for="priority">Filter by priority</label>
          <select id="priority">
            <option value="">Any priority</option>
            ${['urgent', 'high', 'normal', 'low'].map((p) => `<option>${p}</option>`).join('')}
          </select>
          <label class="visually-hidden" for="department">Filter by department</label>
          <select id="department"><option value="">Any department</option></select>
          <label class="visually-hidden" for="label-filter">Filter by label</label>
          <select id="label-filter"><option value="">Any label</option></select>
        </div>
        <form class="search" role="search">
          <label class="visually-hidden" for="q">Search conversations</label>
          <input id="q" name="q" type="search" placeholder="Search messages" required>
          <button type="submit" class="quiet">Search</button>
        </form>
        <ul class="sessions" aria-live="polite"></ul>
      </nav>
      <section class="conversation" aria-label="Conversation">
        <p class="meta">Choose a conversation.</p>
      </section>
    </div>`;
  document.getElementById('sign-out').addEventListener('click', signOut);
  document.getElementById('reports').addEventListener('click', () => {
    leaveConversation();
    const names = new Map((state.departments || []).map((d) => [d.id, d.name]));
    showReports(app.querySelector('section.conversation'), api, names);
  });
  document.getElementById('admin').addEventListener('click', () => {
    leaveConversation();
    showAdmin(app.querySelector('section.conversation'), api);
  });
  app.querySelector('form.search').addEventListener('submit', (e) => {
    e.preventDefault();
    const q = e.target.q.value.trim();
    if (!q) return;
    leaveConversation();
    showSearch(app.querySelector('section.conversation'), api, q, openConversation);
  });
  document.getElementById('presence').addEventListener('change', async (e) => {
    await api('PUT', '/v1/agents/me/presence', { status: e.target.value }).catch((err) => alert(err.message));
    loadDirectory();
  });
  for (const b of app.querySelectorAll('[data-tab]')) {
    b.addEventListener('click', () => {
      state.tab = b.dataset.tab;
      for (const t of app.querySelectorAll('[data-tab]')) t.setAttribute('aria-pressed', String(t === b));
      renderInbox();
    });
  }
  document.getElementById('priority').addEventListener('change', (e) => { state.priority = e.target.value; renderInbox(); });
  document.getElementById('department').addEventListener('change', (e) => { state.department = e.target.value; renderInbox(); });
  document.getElementById('label-filter').addEventListener('change', async (e) => {
    state.labeled = e.target.value ? await sessionsLabeled(api, e.target.value) : null;
    renderInbox();
  });
  api('GET', '/v1/labels').then((r) => {
    const select = document.getElementById('label-filter');
    for (const l of r.labels) select.insertAdjacentHTML('beforeend', `<option value="${escape(l.id)}">${escape(l.name)}</option>`);
  }).catch(() => {});
  loadDirectory().then(() => {
    const select = document.getElementById('department');
    for (const d of state.departments) select.insertAdjacentHTML('beforeend', `<option value="${escape(d.id)}">${escape(d.name)}</option>`);
  });
  state.stream = follow(state.token, onEvent);
  // A reload comes back to the conversation that was open.
  const reopen = decodeURIComponent(location.hash.slice(1));
  if (/^[0-9a-f-]{36}$/.test(reopen)) openConversation(reopen);
}

/** The tenant's departments and agents (for transfers), and this agent's load and presence. */
async function loadDirectory() {
  const [departments, agents] = await Promise.all([
    api('GET', '/v1/departments').catch(() => []),
    api('GET', '/v1/agents').catch(() => []),
  ]);
  state.departments = departments;
  state.agents = agents;
  const me = agents.find((a) => a.agent_id === String(state.me.id));
  if (me) {
    document.getElementById('load').textContent = `${me.active_sessions} of ${me.max_concurrent} chats`;
    document.getElementById('presence').value = me.chosen_presence === 'away' ? 'away' : 'online';
  }
}

async function loadInbox() {
  const lists = await Promise.all(['waiting', 'active', 'closed'].map((status) =>
    api('GET', `/v1/sessions?status=${status}&limit=200`)));
  state.sessions.clear();
  for (const page of lists) for (const s of page.sessions) state.sessions.set(s.id, s);
  const unread = await api('GET', '/v1/me/unread');
  state.unread = new Map(unread.sessions.map((u) => [u.session_id, u.unread]));
  renderInbox();
}

function inTab(s) {
  switch (state.tab) {
    case 'waiting': return s.status === 'waiting';
    case 'mine': return s.status !== 'closed' && s.agent_id === state.me.id;
    case 'open': return s.status !== 'closed';
    default: return s.status === 'closed';
  }
}

function renderInbox() {
  const list = app.querySelector('ul.sessions');
  if (!list) return;
  const shown = [...state.sessions.values()]
    .filter(inTab)
    .filter((s) => !state.priority || s.priority === state.priority)
    .filter((s) => !state.department || s.department_id === state.department)
    .filter((s) => !state.labeled || state.labeled.has(s.id))
    // The waiting queue in queue order (by priority, then oldest first); the rest most
    // recent first.
    .sort((a, b) => state.tab === 'waiting'
      ? RANK[a.priority] - RANK[b.priority] || a.number - b.number
      : b.last_activity_at.localeCompare(a.last_activity_at));
  list.innerHTML = shown.length ? shown.map((s, i) => {
    const unread = state.unread.get(s.id) || 0;
    return `<li><button type="button" data-session="${escape(s.id)}" aria-current="${state.open?.id === s.id}">
      ${state.tab === 'waiting' ? `<span class="meta">#${i + 1} in queue · </span>` : ''}
      <strong>${escape(s.topic || s.title || `Conversation ${s.number}`)}</strong>
      ${unread ? `<span class="badge" aria-label="${unread} unread">${unread}</span>` : ''}
      <br><span class="meta">${escape(s.owner?.id || '')} · ${escape(s.status)} · ${escape(s.priority)}</span>
    </button></li>`;
  }).join('') : '<li class="meta">Nothing here.</li>';
  for (const b of list.querySelectorAll('[data-session]')) {
    b.addEventListener('click', () => openConversation(b.dataset.session));
  }
}

// --- a conversation ----------------------------------------------------------------------

function leaveConversation() {
  state.open = null;
  history.replaceState(null, '', location.pathname);
  renderInbox();
}

async function openConversation(id, focusSeq) {
  state.open = { id, messages: new Map(), readUpTo: 0, pending: [] };
  history.replaceState(null, '', `#${id}`);
  state.unread.delete(id);
  renderInbox();
  const section = app.querySelector('section.conversation');
  section.innerHTML = `
    <div class="head"></div>
    <div class="actions"></div>
    <form class="details actions">
      <label for="topic">Topic</label>
      <input id="topic" name="topic" maxlength="200">
      <label for="edit-priority">Priority</label>
      <select id="edit-priority" name="priority">${['low', 'normal', 'high', 'urgent'].map((p) => `<option>${p}</option>`).join('')}</select>
      <button type="submit" class="quiet">Save</button>
    </form>
    <details class="contact">
      <summary>Contact</summary>
      <form class="contact actions">
        <label for="contact-name">Name</label><input id="contact-name" name="name" required maxlength="200">
        <label for="contact-email">Email</label><input id="contact-email" name="email" type="email" required>
        <label for="contact-phone">Phone</label><input id="contact-phone" name="phone" type="tel">
        <label for="contact-company">Company</label><input id="contact-company" name="company_name">
        <button type="submit" class="quiet">Save contact</button>
      </form>
    </details>
    <div class="labels"></div>
    <form class="transfer actions">
      <label for="transfer-to">Transfer to</label>
      <select id="transfer-to" name="to"></select>
      <button type="submit" class="quiet">Transfer</button>
    </form>
    <button type="button" class="quiet" id="earlier">Load earlier messages</button>
    <ol class="messages" aria-live="polite" aria-label="Messages"></ol>
    <p class="typing" aria-live="polite"></p>
    <form class="canned actions">
      <label for="canned">Canned response</label>
      <select id="canned" name="canned"><option value="">Choose…</option></select>
    </form>
    <form class="send">
      <label class="visually-hidden" for="reply">Reply</label>
      <textarea id="reply" name="reply" placeholder="Write a reply…"></textarea>
      <label class="quiet">Attach a file <input type="file" name="file"></label>
      <button type="submit">Send</button>
    </form>
    <div class="notes"></div>`;
  state.open.addNote = showNotes(section.querySelector('div.notes'), api, id);
  showLabels(section.querySelector('div.labels'), api, id);
  section.querySelector('#earlier').addEventListener('click', loadEarlier);
  section.querySelector('form.details').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target;
    await change(() => api('PATCH', `/v1/sessions/${id}`, { topic: f.topic.value || null, priority: f.priority.value }));
  });
  const contact = section.querySelector('form.contact');
  api('GET', `/v1/sessions/${id}/contact`).then((c) => {
    for (const field of ['name', 'email', 'phone', 'company_name']) contact[field].value = c[field] ?? '';
  }).catch(() => {});
  contact.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('PUT', `/v1/sessions/${id}/contact`, {
        name: contact.name.value,
        email: contact.email.value,
        phone: contact.phone.value || null,
        company_name: contact.company_name.value || null,
      });
      contact.querySelector('button').textContent = 'Saved';
    } catch (err) {
      alert(err.message);
    }
  });
  section.querySelector('form.transfer').addEventListener('submit', async (e) => {
    e.preventDefault();
    const [kind, target] = e.target.to.value.split(':');
    const body = kind === 'department' ? { department_id: target } : { agent_id: target };
    await change(() => api('POST', `/v1/sessions/${id}/assign`, body));
  });
  state.open.showTyping = typingIndicator(section.querySelector('.typing'));
  const typing = typingNotifier((isTyping) => {
    api('POST', `/v1/sessions/${id}/typing`, { is_typing: isTyping }).catch(() => {});
  });
  const form = section.querySelector('form.send');
  form.reply.addEventListener('input', () => typing.input(!form.reply.value.trim()));
  const canned = section.querySelector('#canned');
  // Read again whenever the agent turns to it: an admin may have added one meanwhile.
  const loadCanned = () => api('GET', '/v1/canned-responses').then((r) => {
    const options = '<option value="">Choose…</option>' + r.canned_responses
      .map((c) => `<option value="${escape(c.id)}">/${escape(c.code)}: ${escape(c.text.slice(0, 40))}</option>`).join('');
    // Replaced only when it changed, so an open list is left alone.
    if (canned.dataset.options !== options) {
      canned.innerHTML = options;
      canned.dataset.options = options;
    }
  }).catch(() => {});
  loadCanned();
  canned.addEventListener('focus', loadCanned);
  canned.addEventListener('change', async () => {
    if (!canned.value) return;
    try {
      const { text } = await api('POST', `/v1/canned-responses/${canned.value}/render`, { session_id: id });
      form.reply.value = form.reply.value ? `${form.reply.value} ${text}` : text;
      form.reply.focus();
    } catch (err) {
      alert(err.message);
    }
    canned.value = '';
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = form.reply.value.trim();
    const file = form.file.files[0];
    if (!text && !file) return;
    let files = [];
    if (file) {
      try {
        files = [await upload(id, file, state.token)];
      } catch (err) {
        alert(err.message);
        return;
      }
      form.file.value = '';
    }
    form.reply.value = '';
    typing.stop();
    send(id, text, files);
  });
  form.reply.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  const [page, read] = await Promise.all([
    api('GET', `/v1/sessions/${id}/messages?before_seq=${Number.MAX_SAFE_INTEGER}&limit=50`),
    api('GET', `/v1/sessions/${id}/read`),
  ]);
  const othersRead = read.cursors.filter((c) => c.reader.id !== String(state.me.id)).map((c) => c.up_to_seq);
  state.open.readUpTo = Math.max(state.open.readUpTo, 0, ...othersRead);
  addMessages(page.messages);
  state.open.hasEarlier = page.has_more;
  if (focusSeq && !state.open.messages.has(focusSeq)) {
    // An older message, from a search: the page around it too.
    const around = await api('GET', `/v1/sessions/${id}/messages?after_seq=${focusSeq - 1}&limit=50`);
    addMessages(around.messages);
  }
  renderConversationHead();
  markRead();
  if (focusSeq) {
    const hit = app.querySelector(`ol.messages li[data-seq="${focusSeq}"]`);
    if (hit) {
      hit.classList.add('hit');
      hit.tabIndex = -1;
      hit.scrollIntoView({ block: 'center' });
      hit.focus();
    }
  }
}

function renderConversationHead() {
  const s = state.sessions.get(state.open.id);
  const section = app.querySelector('section.conversation');
  if (!s || !section) return;
  section.querySelector('.head').innerHTML = `<h2>${escape(s.topic || s.title || `Conversation ${s.number}`)}</h2>
    <p class="meta">${escape(s.status)} · priority ${escape(s.priority)} · ${s.agent_id ? `agent ${escape(s.agent_name || s.agent_id)}` : 'no agent'}</p>`;
  const actions = [];
  if (s.status === 'waiting') actions.push(['take', 'Take']);
  if (s.status !== 'closed') actions.push(['close', 'Close']);
  if (s.status === 'closed') actions.push(['reopen', 'Reopen']);
  // An assistant spoke here: the conversation can go back to it.
  const assistant = [...state.open.messages.values()].find((m) => m.sender_type === 'assistant');
  if (assistant && s.status !== 'closed' && s.agent_id !== assistant.sender?.id) actions.push(['handback', 'Hand back to assistant']);
  actions.push(['transcript', 'Transcript'], ['email', 'Email transcript']);
  const bar = section.querySelector('.actions');
  bar.innerHTML = actions.map(([a, label]) => `<button type="button" data-action="${a}">${label}</button>`).join('');
  for (const b of bar.querySelectorAll('[data-action]')) b.addEventListener('click', () => act(b.dataset.action));
  section.querySelector('#earlier').hidden = !state.open.hasEarlier;
  const details = section.querySelector('form.details');
  if (document.activeElement?.form !== details) {
    details.topic.value = s.topic || '';
    details.priority.value = s.priority;
  }
  const transfer = section.querySelector('form.transfer');
  transfer.to.innerHTML = (state.departments || []).map((d) => `<option value="department:${escape(d.id)}">${escape(d.name)} (department)</option>`)
    .concat((state.agents || []).filter((a) => a.agent_id !== s.agent_id).map((a) => `<option value="agent:${escape(a.agent_id)}">${escape(a.agent_id)} (agent)</option>`))
    .join('');
  transfer.hidden = s.status === 'closed' || !transfer.to.options.length;
  details.hidden = s.status === 'closed';
  section.querySelector('form.send').hidden = s.status === 'closed';
}

/** Apply a change to the open session and show what the server answered. */
async function change(call) {
  try {
    const updated = await call();
    const s = updated.session ?? updated;
    state.sessions.set(s.id, { ...state.sessions.get(s.id), ...s });
    renderInbox();
    renderConversationHead();
  } catch (e) {
    alert(e.message);
  }
}

/** Save the conversation as an HTML page (fetched with the token, handed over as a file). */
async function downloadTranscript(id) {
  const res = await fetch(`/v1/sessions/${id}/transcript?format=html`, { headers: { authorization: `Bearer ${state.token}` } });
  if (!res.ok) return alert(`Transcript: HTTP ${res.status}`);
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await res.blob());
  link.download = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') || '')?.[1] || 'conversation.html';
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

async function act(action) {
  const id = state.open.id;
  if (action === 'transcript') return downloadTranscript(id);
  if (action === 'email') {
    return api('POST', `/v1/sessions/${id}/transcript/email`, {})
      .then((r) => setStatus(`Transcript sent to ${r.sent_to}`))
      .catch((e) => alert(e.message));
  }
  const calls = {
    take: () => api('POST', `/v1/sessions/${id}/assign`, { agent_id: String(state.me.id) }),
    close: () => api('POST', `/v1/sessions/${id}/end`, {}),
    reopen: () => api('POST', `/v1/sessions/${id}/reopen`, {}),
    handback: () => api('POST', `/v1/sessions/${id}/handback`, {}),
  };
  await change(calls[action]);
  loadDirectory();
}

async function loadEarlier() {
  const first = Math.min(...state.open.messages.keys());
  const page = await api('GET', `/v1/sessions/${state.open.id}/messages?before_seq=${first}&limit=50`);
  addMessages(page.messages);
  state.open.hasEarlier = page.has_more;
  renderConversationHead();
}

/** Messages after the newest one shown: after a reconnect nothing is missing or twice. */
async function catchUp() {
  if (!state.open) return;
  const last = Math.max(0, ...state.open.messages.keys());
  const page = await api('GET', `/v1/sessions/${state.open.id}/messages?after_seq=${last}&limit=200`);
  addMessages(page.messages);
  renderConversationHead();
}

/** One's own message, come back live before its send was answered, is no longer pending. */
function settle(m) {
  if (m.sender.id !== String(state.me.id)) return;
  const i = state.open.pending.findIndex((p) => p.content === m.content);
  if (i >= 0) state.open.pending.splice(i, 1);
}

function addMessages(messages) {
  for (const m of messages) state.open.messages.set(m.seq, m);
  renderMessages();
}

function renderMessages() {
  const list = app.querySelector('ol.messages');
  if (!list) return;
  const ordered = [...state.open.messages.values()].sort((a, b) => a.seq - b.seq);
  const shown = ordered.map((m) => {
    const mine = String(m.sender?.id) === String(state.me.id);
    const kind = m.sender_type === 'system' ? 'system' : mine ? 'mine' : 'theirs';
    const read = mine && m.seq <= state.open.readUpTo ? ' <span class="meta" aria-label="read">✓✓</span>' : '';
    if (m.deleted_at) return `<li class="${kind}" data-seq="${m.seq}"><em class="meta">Message deleted</em></li>`;
    const edited = m.edited_at ? ' <span class="meta">(edited)</span>' : '';
    const tools = mine && m.sender_type !== 'system'
      ? ` <button type="button" class="quiet" data-edit="${m.seq}" aria-label="Edit message ${m.seq}">Edit</button><button type="button" class="quiet" data-remove="${m.seq}" aria-label="Delete message ${m.seq}">Delete</button>`
      : '';
    return `<li class="${kind}" data-seq="${m.seq}">${escape(m.content)}${filesHtml(m.attachments)}${edited}${read}${tools}</li>`;
  });
  const pending = state.open.pending.map((p) => `<li class="mine" data-pending>${escape(p.content)} <span class="meta">sending…</span></li>`);
  list.innerHTML = shown.concat(pending).join('');
  list.scrollTop = list.scrollHeight;
  for (const b of list.querySelectorAll('[data-edit]')) b.addEventListener('click', () => revise(Number(b.dataset.edit), true));
  for (const b of list.querySelectorAll('[data-remove]')) b.addEventListener('click', () => revise(Number(b.dataset.remove), false));
}

/** Edit (asking for the new text) or delete one's own message; the server keeps its seq. */
async function revise(seq, edit) {
  const id = state.open.id;
  const before = state.open.messages.get(seq);
  try {
    let m;
    if (edit) {
      const content = prompt('Edit message', before?.content ?? '');
      if (content == null || !content.trim()) return;
      m = await api('PATCH', `/v1/sessions/${id}/messages/${seq}`, { content });
    } else {
      if (!confirm('Delete this message?')) return;
      m = await api('DELETE', `/v1/sessions/${id}/messages/${seq}`);
    }
    if (state.open?.id === id) addMessages([m]);
  } catch (err) {
    alert(err.message);
  }
}

/** Send with a client id, again and again until the server answers: never twice. */
async function send(sessionId, content, attachment_ids = []) {
  const pending = { content, attachment_ids, client_msg_id: crypto.randomUUID() };
  state.open.pending.push(pending);
  renderMessages();
  for (let wait = 500; ; wait = Math.min(wait * 2, 5000)) {
    try {
      const m = await api('POST', `/v1/sessions/${sessionId}/messages`, pending);
      if (state.open?.id === sessionId) {
        state.open.pending = state.open.pending.filter((p) => p !== pending);
        addMessages([m]);
      }
      return;
    } catch (e) {
      if (e instanceof ApiError && e.status < 500 && e.status !== 429) {
        state.open.pending = state.open.pending.filter((p) => p !== pending);
        renderMessages();
        alert(e.message);
        return;
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

async function markRead() {
  const last = Math.max(0, ...state.open.messages.keys());
  if (last > 0) await api('POST', `/v1/sessions/${state.open.id}/read`, { up_to_seq: last }).catch(() => {});
}

if (state.token && state.me) renderDesk();
else renderLogin();
