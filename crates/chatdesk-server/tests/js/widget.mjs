// The widget on another site's page, in Chromium: a visitor opens the bubble and writes,
// sees its place in the queue, the agent's reply arriving live and the read tick; writes
// twice while offline and each message goes out once when the connection is back; sees the
// conversation closed and starts a new one. The script stays small, and the page has no
// serious accessibility problem.
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { main, rest } from './lib.mjs';
import { launch, context, accessibilityProblems } from './browser.mjs';

const { CHATDESK_URL: BASE, HOST_PORT, AGENT_TOKEN, AGENT_ID, SCREENSHOTS } = process.env;

/** The shop's own page, on another origin than chatdesk's, with the one tag. */
function shopPage() {
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shoe shop</title></head>
<body><main><h1>Shoe shop</h1><p>Shoes of every size.</p></main>
<script src="${BASE}/widget.js" data-business="shop" async></script></body></html>`;
  const server = http.createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page);
  });
  return new Promise((resolve) => server.listen(Number(HOST_PORT), 'localhost', () => resolve(server)));
}

async function messagesOf(sid) {
  const { body } = await rest('GET', `/v1/sessions/${sid}/messages?limit=200`, AGENT_TOKEN);
  return body.messages;
}

main(async (assert) => {
  const script = await fetch(`${BASE}/widget.js`).then((r) => r.arrayBuffer());
  const gzipped = gzipSync(Buffer.from(script)).length;
  assert.ok(gzipped <= 30 * 1024, `widget.js is ${gzipped} bytes gzipped`);

  const shop = await shopPage();
  const browser = await launch();
  try {
    const visitorContext = await context(browser);
    const page = await visitorContext.newPage();
    await page.goto(`http://localhost:${HOST_PORT}/`);
    await page.getByRole('button', { name: 'Chat with us' }).click();
    const messages = page.getByRole('list', { name: 'Messages' });
    const status = page.getByRole('status');
    await page.getByRole('textbox', { name: 'Message' }).fill('Do you have size 42?');
    await page.keyboard.press('Enter');
    await messages.locator('li.mine', { hasText: 'Do you have size 42?' }).waitFor();
    await status.filter({ hasText: 'number 1 in the queue' }).waitFor();

    // The agent finds it waiting, takes it and answers.
    const { body: waiting } = await rest('GET', '/v1/sessions?status=waiting&business_id=shop', AGENT_TOKEN);
    assert.equal(waiting.sessions.length, 1);
    const sid = waiting.sessions[0].id;
    const taken = await rest('POST', `/v1/sessions/${sid}/assign`, AGENT_TOKEN, { agent_id: AGENT_ID });
    assert.equal(taken.status, 200, JSON.stringify(taken.body));
    await rest('POST', `/v1/sessions/${sid}/messages`, AGENT_TOKEN, { content: 'We do! Which color?' });
    await messages.getByText('We do! Which color?').waitFor();
    // The visitor had the panel open: the agent's message is read; the agent reads too.
    await rest('POST', `/v1/sessions/${sid}/read`, AGENT_TOKEN, { up_to_seq: 1 });
    await messages.locator('li.mine', { hasText: 'size 42' }).getByLabel('read').waitFor();
    assert.deepEqual(await accessibilityProblems(page), [], 'the widget');
    if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/widget.png` });

    // Offline: two messages wait, then go out once each, in order.
    await visitorContext.setOffline(true);
    for (const text of ['Black, please', 'And laces']) {
      await page.getByRole('textbox', { name: 'Message' }).fill(text);
      await page.keyboard.press('Enter');
    }
    await messages.locator('[data-pending]').nth(1).waitFor();
    await visitorContext.setOffline(false);
    await messages.locator('[data-pending]').first().waitFor({ state: 'detached', timeout: 30000 });
    const stored = (await messagesOf(sid)).map((m) => m.content);
    assert.deepEqual(stored.filter((c) => c === 'Black, please' || c === 'And laces'), ['Black, please', 'And laces']);
    await rest('POST', `/v1/sessions/${sid}/messages`, AGENT_TOKEN, { content: 'On their way' });
    await messages.getByText('On their way').waitFor();
    const shown = await messages.locator('li').allTextContents();
    assert.equal(shown.filter((t) => t.startsWith('Black, please')).length, 1, JSON.stringify(shown));

    // Closed by the agent: the visitor is told, and starts again.
    await rest('POST', `/v1/sessions/${sid}/end`, AGENT_TOKEN, {});
    await status.filter({ hasText: 'closed' }).waitFor();
    await page.getByRole('button', { name: 'New chat' }).click();
    await status.filter({ hasText: 'queue' }).waitFor();
    assert.equal(await messages.locator('li').count(), 0, 'a new conversation starts empty');
    return { ok: true, gzipped };
  } catch (e) {
    for (const ctx of browser.contexts()) {
      for (const p of ctx.pages()) await p.screenshot({ path: '/tmp/widget-failure.png' }).catch(() => {});
    }
    throw e;
  } finally {
    await browser.close();
    shop.close();
  }
});
