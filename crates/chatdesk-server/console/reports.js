// The reports page: first response, resolution, per agent and per department, and the
// busiest hours, over a chosen range, drawn as bar charts (SVG) beside their numbers.

import { escape } from './html.js';

/** Seconds as people read them. */
function duration(secs) {
  if (secs === null || secs === undefined) return '–';
  if (secs < 90) return `${Math.round(secs)} s`;
  if (secs < 5400) return `${Math.round(secs / 60)} min`;
  return `${(secs / 3600).toFixed(1)} h`;
}

/** A horizontal bar chart of `rows` ([label, value, shown]), each bar's value kept on it. */
function barChart(title, rows) {
  const width = 320;
  const rowHeight = 22;
  const most = Math.max(1, ...rows.map(([, v]) => v || 0));
  const bars = rows.map(([label, value, shown], i) => {
    const w = Math.round(((value || 0) / most) * (width - 130));
    const y = i * rowHeight;
    return `<g><text x="0" y="${y + 15}" font-size="12">${escape(label)}</text>
      <rect x="90" y="${y + 4}" width="${w}" height="14" fill="#1f5fbf" data-label="${escape(label)}" data-value="${value ?? ''}"></rect>
      <text x="${96 + w}" y="${y + 15}" font-size="12">${escape(shown)}</text></g>`;
  }).join('');
  const height = Math.max(rowHeight, rows.length * rowHeight);
  return `<figure><figcaption>${escape(title)}</figcaption>
    <svg role="img" aria-label="${escape(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${bars}</svg></figure>`;
}

/** Show the report page in `section`, reading `/v1/stats` through `api`; departments are
 * named by `departmentNames` (id → name). */
export function showReports(section, api, departmentNames = new Map()) {
  const today = new Date();
  const weekAgo = new Date(today.getTime() - 7 * 86400000);
  const day = (d) => d.toISOString().slice(0, 10);
  section.innerHTML = `
    <h2>Reports</h2>
    <form class="range actions">
      <label for="from">From</label><input id="from" name="from" type="date" value="${day(weekAgo)}">
      <label for="to">To</label><input id="to" name="to" type="date" value="${day(today)}">
      <button type="submit" class="quiet">Show</button>
    </form>
    <div class="report" aria-live="polite"></div>`;
  const form = section.querySelector('form.range');
  const show = async () => {
    const from = new Date(`${form.from.value}T00:00:00Z`).toISOString();
    const to = new Date(new Date(`${form.to.value}T00:00:00Z`).getTime() + 86400000).toISOString();
    const out = section.querySelector('.report');
    try {
      const r = await api('GET', `/v1/stats?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
      const o = r.overall;
      const hours = [...r.busiest_hours].sort((a, b) => a.hour - b.hour)
        .map((h) => [`${String(h.hour).padStart(2, '0')}:00`, h.messages, String(h.messages)]);
      const agents = Object.entries(r.by_agent)
        .map(([agent, s]) => [agent, s.average_first_response_secs, duration(s.average_first_response_secs)]);
      const departments = Object.entries(r.by_department)
        .map(([d, s]) => [departmentNames.get(d) || d, s.sessions, String(s.sessions)]);
      const rated = Object.entries(r.by_agent).filter(([, s]) => s.average_rating != null)
        .map(([agent, s]) => [agent, s.average_rating, `${s.average_rating.toFixed(1)} ★ (${s.rated_sessions})`]);
      const rating = o.average_rating == null ? '–' : `${o.average_rating.toFixed(1)} ★ from ${o.rated_sessions}`;
      out.innerHTML = `
        <dl class="summary">
          <dt>Sessions</dt><dd data-stat="sessions">${o.sessions}</dd>
          <dt>Messages</dt><dd data-stat="messages">${o.messages}</dd>
          <dt>First response (average)</dt><dd>${duration(o.average_first_response_secs)}</dd>
          <dt>First response (median)</dt><dd>${duration(o.median_first_response_secs)}</dd>
          <dt>Resolution (average)</dt><dd>${duration(o.average_resolution_secs)}</dd>
          <dt>Rating (average)</dt><dd data-stat="rating">${rating}</dd>
        </dl>
        ${barChart('Messages by hour (UTC)', hours)}
        ${barChart('First response by agent', agents)}
        ${barChart('Sessions by department', departments)}
        ${barChart('Rating by agent', rated)}
        ${r.truncated ? '<p class="meta">More sessions than one report reads: narrow the range.</p>' : ''}`;
    } catch (e) {
      out.innerHTML = `<p class="error" role="alert">${escape(e.message)}</p>`;
    }
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); show(); });
  show();
}
