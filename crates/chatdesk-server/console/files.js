// Files in a conversation: shown under their message (images as thumbnails, the rest as
// links; both links expire, so they are shown as the server last gave them) and uploaded
// before the message that carries them is sent.
import { escape } from './html.js';

/** A message's files as the REST views give them, from an event's camelCase ones. */
export function fromEventFiles(list) {
  return (list || []).map((a) => ({
    id: a.id, name: a.name, content_type: a.contentType, size: a.size, url: a.url, thumbnail_url: a.thumbnailUrl,
  }));
}

export function filesHtml(list) {
  if (!list?.length) return '';
  const items = list.map((f) => (f.thumbnail_url
    ? `<a href="${escape(f.url)}" target="_blank" rel="noopener"><img src="${escape(f.thumbnail_url)}" alt="${escape(f.name)}"></a>`
    : `<a href="${escape(f.url)}" target="_blank" rel="noopener">${escape(f.name)}</a> <span class="meta">${kilobytes(f.size)}</span>`));
  return `<span class="files">${items.join(' ')}</span>`;
}

function kilobytes(size) {
  return `${Math.max(1, Math.round(size / 1024))} KB`;
}

/** Upload `file` into the session; its id, to send with a message. */
export async function upload(sessionId, file, token) {
  const form = new FormData();
  form.append('file', file, file.name);
  const res = await fetch(`/v1/sessions/${sessionId}/attachments`, {
    method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form,
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error(data?.error?.message || `HTTP ${res.status}`);
  return data.id;
}
