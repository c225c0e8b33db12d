// A conversation's private notes: staff write them for each other; the customer never sees
// them (they are not messages). Shown beside the conversation, live over `noteCreated`.
import { escape } from './html.js';

/** Fill `container` with the session's notes and a form to add one; returns `add(note)`
 * for notes that arrive live. */
export function showNotes(container, api, sessionId) {
  container.innerHTML = `
    <details class="notes" open>
      <summary>Private notes <span class="meta">(staff only)</span></summary>
      <ol class="notes" aria-label="Private notes"></ol>
      <form class="note actions">
        <label for="note-text">Note</label>
        <input id="note-text" name="content" required maxlength="10000" autocomplete="off">
        <button type="submit" class="quiet">Add note</button>
      </form>
    </details>`;
  const list = container.querySelector('ol.notes');
  const shown = new Map();
  const add = (n) => {
    shown.set(n.number, n);
    list.innerHTML = [...shown.values()].sort((a, b) => a.number - b.number)
      .map((x) => `<li data-note="${x.number}"><span class="meta">${escape(x.author_id ?? x.authorId)}:</span> ${escape(x.content)}</li>`)
      .join('');
  };
  api('GET', `/v1/sessions/${sessionId}/notes`).then((r) => r.notes.forEach(add)).catch(() => {});
  const form = container.querySelector('form.note');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      add(await api('POST', `/v1/sessions/${sessionId}/notes`, { content: form.content.value }));
      form.content.value = '';
    } catch (err) {
      alert(err.message);
    }
  });
  return add;
}
