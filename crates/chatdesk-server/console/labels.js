// Labels in the console: a conversation's labels (checkboxes, saved together) and the
// inbox's filter by label (the sessions the API lists with `label_id`).
import { escape } from './html.js';

/** Fill `container` with the tenant's labels, those of session `id` ticked, and a save. */
export async function showLabels(container, api, id) {
  const [all, mine] = await Promise.all([
    api('GET', '/v1/labels'),
    api('GET', `/v1/sessions/${id}/labels`),
  ]).catch(() => [{ labels: [] }, { labels: [] }]);
  if (!all.labels.length) {
    container.innerHTML = '';
    return;
  }
  const on = new Set(mine.labels.map((l) => l.id));
  container.innerHTML = `
    <form class="labels actions">
      <fieldset><legend>Labels</legend>
        ${all.labels.map((l) => `<label><input type="checkbox" name="label" value="${escape(l.id)}" ${on.has(l.id) ? 'checked' : ''}> ${escape(l.name)}</label>`).join(' ')}
      </fieldset>
      <button type="submit" class="quiet">Save labels</button>
    </form>`;
  container.querySelector('form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const ids = [...e.target.querySelectorAll('input[name=label]:checked')].map((i) => i.value);
    try {
      await api('PUT', `/v1/sessions/${id}/labels`, { label_ids: ids });
      e.target.querySelector('button').textContent = 'Saved';
    } catch (err) {
      alert(err.message);
    }
  });
}

/** The ids of the sessions carrying label `id` (the newest 200). */
export async function sessionsLabeled(api, id) {
  const page = await api('GET', `/v1/sessions?label_id=${encodeURIComponent(id)}&limit=200`);
  return new Set(page.sessions.map((s) => s.id));
}
