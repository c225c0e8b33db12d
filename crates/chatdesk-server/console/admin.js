// The admin page: tenant settings, departments and their agents, agents' caps, canned
// responses, labels, business hours, webhooks.
// Every change goes through the API, which decides who may make it: a page opened with a
// credential that may not shows the API's refusal, and nothing else.

import { escape } from './html.js';

const EVENTS = ['session.created', 'message.created', 'session.assigned', 'session.closed', 'note.created', 'session.rated'];

/** Show the admin page in `section`, calling the API through `api`. */
export async function showAdmin(section, api) {
  section.innerHTML = '<h2>Admin</h2><div class="admin" aria-live="polite"><p class="meta">Loading…</p></div>';
  const out = section.querySelector('.admin');
  let settings;
  let departments;
  let agents;
  let webhooks;
  let canned;
  let labels;
  let hours;
  try {
    [settings, departments, agents, webhooks, canned, labels, hours] = await Promise.all([
      api('GET', '/v1/tenant/settings'),
      api('GET', '/v1/departments'),
      api('GET', '/v1/agents'),
      api('GET', '/v1/webhooks'),
      api('GET', '/v1/canned-responses'),
      api('GET', '/v1/labels'),
      api('GET', '/v1/business-hours'),
    ]);
  } catch (e) {
    out.innerHTML = `<p class="error" role="alert">This page is for admins. The server said: ${escape(e.message)}</p>`;
    return;
  }
  const again = () => showAdmin(section, api);
  const own = hours.schedules.find((x) => !x.department_id);
  const guarded = (call) => async (e) => {
    e.preventDefault();
    try {
      await call(e.target);
      await again();
    } catch (err) {
      out.querySelector('.problem').textContent = err.message;
    }
  };
  out.innerHTML = `
    <p class="problem error" role="alert"></p>
    <section aria-labelledby="settings-title">
      <h3 id="settings-title">Settings</h3>
      <form class="settings actions">
        <label for="routing">Routing</label>
        <select id="routing" name="routing">${['manual', 'auto'].map((r) => `<option ${r === settings.routing ? 'selected' : ''}>${r}</option>`).join('')}</select>
        <label><input type="checkbox" name="allow_reopen" ${settings.allow_reopen ? 'checked' : ''}> Reopen closed conversations</label>
        <label for="idle">Idle timeout (s)</label>
        <input id="idle" name="idle" type="number" min="1" value="${settings.idle_timeout_secs ?? ''}" placeholder="server default">
        <button type="submit" class="quiet">Save settings</button>
      </form>
    </section>
    <section aria-labelledby="departments-title">
      <h3 id="departments-title">Departments</h3>
      <ul>${departments.map((d) => `<li>${escape(d.name)} <span class="meta">${d.agents.map(escape).join(', ') || 'no agents'}</span></li>`).join('')}</ul>
      <form class="department actions">
        <label for="department-name">New department</label>
        <input id="department-name" name="name" required maxlength="100">
        <button type="submit" class="quiet">Add department</button>
      </form>
      ${departments.length ? `<form class="member actions">
        <label for="member-department">Department</label>
        <select id="member-department" name="department">${departments.map((d) => `<option value="${escape(d.id)}">${escape(d.name)}</option>`).join('')}</select>
        <label for="member-agent">Agent id</label>
        <input id="member-agent" name="agent" required>
        <button type="submit" class="quiet">Add agent</button>
      </form>` : ''}
    </section>
    <section aria-labelledby="agents-title">
      <h3 id="agents-title">Agents</h3>
      <ul>${agents.map((a) => `<li><form class="cap actions" data-agent="${escape(a.agent_id)}">
        <span>${escape(a.agent_id)} · ${escape(a.presence)} · ${a.active_sessions} open</span>
        <label for="cap-${escape(a.agent_id)}">Cap</label>
        <input id="cap-${escape(a.agent_id)}" name="cap" type="number" min="0" max="100" value="${a.max_concurrent}">
        <button type="submit" class="quiet">Set cap</button></form></li>`).join('') || '<li class="meta">No agents yet.</li>'}</ul>
    </section>
    <section aria-labelledby="hours-title">
      <h3 id="hours-title">Business hours</h3>
      <form class="hours">
        <label for="hours-json">The tenant's schedule (JSON; empty: always open)</label>
        <textarea id="hours-json" name="hours" rows="6" cols="60">${own ? escape(JSON.stringify(own.hours, null, 1)) : ''}</textarea>
        <p class="meta">For example {"time_zone": "Europe/Berlin", "weekly": {"mon": [["09:00", "17:00"]]}, "holidays": ["2026-12-25"], "away_message": "We answer from 9 to 5."}</p>
        <button type="submit" class="quiet">Save hours</button>
      </form>
    </section>
    <section aria-labelledby="labels-title">
      <h3 id="labels-title">Labels</h3>
      <ul>${labels.labels.map((l) => `<li>${escape(l.name)}
        <button type="button" class="quiet" data-delete-label="${escape(l.id)}" aria-label="Delete label ${escape(l.name)}">Delete</button></li>`).join('') || '<li class="meta">None.</li>'}</ul>
      <form class="label actions">
        <label for="label-name">New label</label>
        <input id="label-name" name="name" required maxlength="40">
        <button type="submit" class="quiet">Add label</button>
      </form>
    </section>
    <section aria-labelledby="canned-title">
      <h3 id="canned-title">Canned responses</h3>
      <ul>${canned.canned_responses.map((c) => `<li><strong>/${escape(c.code)}</strong> ${escape(c.text)}
        <button type="button" class="quiet" data-delete-canned="${escape(c.id)}" aria-label="Delete /${escape(c.code)}">Delete</button></li>`).join('') || '<li class="meta">None.</li>'}</ul>
      <form class="canned actions">
        <label for="canned-code">Code</label>
        <input id="canned-code" name="code" required maxlength="32" pattern="[A-Za-z0-9_-]+">
        <label for="canned-text">Text</label>
        <input id="canned-text" name="text" required maxlength="2000" placeholder="Hello {{contact.name}}, {{agent.name}} here.">
        <button type="submit" class="quiet">Add canned response</button>
      </form>
    </section>
    <section aria-labelledby="webhooks-title">
      <h3 id="webhooks-title">Webhooks</h3>
      <ul>${webhooks.map((w) => `<li>${escape(w.url)} <span class="meta">${w.events.map(escape).join(', ')}</span>
        <button type="button" class="quiet" data-delete="${w.id}">Delete</button></li>`).join('') || '<li class="meta">None.</li>'}</ul>
      <form class="webhook actions">
        <label for="webhook-url">URL</label>
        <input id="webhook-url" name="url" type="url" required placeholder="https://example.com/hook">
        <fieldset><legend>Events</legend>${EVENTS.map((e) => `<label><input type="checkbox" name="events" value="${e}" checked> ${e}</label>`).join(' ')}</fieldset>
        <button type="submit" class="quiet">Add webhook</button>
      </form>
      <p class="secret" aria-live="polite"></p>
    </section>`;
  out.querySelector('form.settings').addEventListener('submit', guarded((f) => api('PUT', '/v1/tenant/settings', {
    routing: f.routing.value,
    allow_reopen: f.allow_reopen.checked,
    idle_timeout_secs: f.idle.value ? Number(f.idle.value) : null,
  })));
  out.querySelector('form.department').addEventListener('submit', guarded((f) => api('POST', '/v1/departments', { name: f.name.value })));
  out.querySelector('form.member')?.addEventListener('submit', guarded((f) =>
    api('PUT', `/v1/departments/${f.department.value}/agents/${encodeURIComponent(f.agent.value)}`, {})));
  for (const form of out.querySelectorAll('form.cap')) {
    form.addEventListener('submit', guarded((f) =>
      api('PUT', `/v1/agents/${encodeURIComponent(f.dataset.agent)}`, { max_concurrent: Number(f.cap.value) })));
  }
  out.querySelector('form.hours').addEventListener('submit', guarded((f) =>
    api('PUT', '/v1/business-hours', { hours: f.hours.value.trim() ? JSON.parse(f.hours.value) : null })));
  out.querySelector('form.label').addEventListener('submit', guarded((f) => api('POST', '/v1/labels', { name: f.name.value })));
  for (const b of out.querySelectorAll('[data-delete-label]')) {
    b.addEventListener('click', async () => {
      await api('DELETE', `/v1/labels/${b.dataset.deleteLabel}`).catch((e) => alert(e.message));
      again();
    });
  }
  out.querySelector('form.canned').addEventListener('submit', guarded((f) =>
    api('POST', '/v1/canned-responses', { code: f.code.value, text: f.text.value })));
  for (const b of out.querySelectorAll('[data-delete-canned]')) {
    b.addEventListener('click', async () => {
      await api('DELETE', `/v1/canned-responses/${b.dataset.deleteCanned}`).catch((e) => alert(e.message));
      again();
    });
  }
  for (const b of out.querySelectorAll('[data-delete]')) {
    b.addEventListener('click', async () => {
      await api('DELETE', `/v1/webhooks/${b.dataset.delete}`).catch((e) => alert(e.message));
      again();
    });
  }
  out.querySelector('form.webhook').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target;
    try {
      const events = [...f.querySelectorAll('input[name=events]:checked')].map((i) => i.value);
      const created = await api('POST', '/v1/webhooks', { url: f.url.value, events });
      await again();
      // The secret is shown this once: the server keeps it only to sign deliveries.
      section.querySelector('.secret').textContent = `Signing secret (shown once): ${created.secret}`;
    } catch (err) {
      out.querySelector('.problem').textContent = err.message;
    }
  });
}
