// Search: the messages the agent may see that contain every word of a query; a hit opens
// its conversation with the message in view.

import { escape } from './html.js';

/** What the agent may see that contains every word of `q`; a hit opens its conversation. */
export async function showSearch(section, api, q, open) {
  const found = await api('GET', `/v1/search?q=${encodeURIComponent(q)}`);
  section.innerHTML = `<h2>Search: ${escape(q)}</h2>
    <ul class="sessions hits" aria-label="Results">${found.messages.map((m) => `
      <li><button type="button" data-hit="${escape(m.session_id)}" data-seq="${m.seq}">${escape(m.content)}
      <br><span class="meta">message ${m.seq} · ${escape(m.sender_type)}</span></button></li>`).join('')
      || '<li class="meta">Nothing found.</li>'}</ul>`;
  for (const b of section.querySelectorAll('[data-hit]')) {
    b.addEventListener('click', () => open(b.dataset.hit, Number(b.dataset.seq)));
  }
}
