// Helpers for driving chatdesk with the official socket.io-client. Every wait has a deadline,
// so a broken server fails the test instead of hanging it.
import { io } from 'socket.io-client';
import assert from 'node:assert/strict';

export const BASE = process.env.CHATDESK_URL;

export function connect(opts = {}) {
  return io(`${BASE}/chat`, { transports: ['websocket'], reconnection: false, ...opts });
}

export function once(socket, event, { timeout = 20000, where = () => true } = {}) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler);
      reject(new Error(`timed out waiting for ${event}`));
    }, timeout);
    function handler(data) {
      if (!where(data)) return;
      clearTimeout(timer);
      socket.off(event, handler);
      resolve(data);
    }
    socket.on(event, handler);
  });
}

export function connected(socket) {
  return new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
}

export function ask(socket, event, data) {
  return socket.timeout(20000).emitWithAck(event, data);
}

export function rest(method, path, token, body) {
  return restAt(BASE, method, path, token, body);
}

/** A REST call to the server at `base` (one node of several). */
export async function restAt(base, method, path, token, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Wait until `test()` holds, or fail after `ms` naming `what`. */
export async function until(what, test, ms = 30000) {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Collect every event of one name until stopped. */
export function collect(socket, event) {
  const got = [];
  socket.on(event, (d) => got.push(d));
  return got;
}

export async function main(fn) {
  try {
    const report = await fn(assert);
    console.log(JSON.stringify(report ?? { ok: true }));
    process.exit(0);
  } catch (e) {
    console.error(e);
    process.exit(1);
  }
}
