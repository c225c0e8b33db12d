// The widget on another site's page and the console in a second browser, in Chromium.
// 1. The visitor writes; the agent sees it waiting with its place, takes it and replies;
//    typing and read ticks show on both sides.
// 2. The agent reloads mid-conversation while the visitor, offline, writes twice: each
//    message arrives exactly once, in order, on both sides.
// 3. Files both ways (the visitor's photo shows as a thumbnail in the console, the agent's
//    receipt as a link in the widget) and the visitor edits a message.
// 4. A transfer to another department, then close: the visitor sees it closed, rates it
//    and starts a new one. The script stays small; neither page has a serious accessibility problem.
import { crc32, deflateSync, gzipSync } from 'node:zlib';
import { main, rest } from './lib.mjs';
import { launch, context, accessibilityProblems, signIn, shopPage } from './browser.mjs';

const { CHATDESK_URL: BASE, HOST_PORT, AGENT_EMAIL, PASSWORD, AGENT_TOKEN, SCREENSHOTS } = process.env;

/** The texts of a message list, without ticks, marks and buttons. */
async function texts(list) {
  return list.locator('li').evaluateAll((items) => items.map((li) => {
    const copy = li.cloneNode(true);
    for (const extra of copy.querySelectorAll('button, .tick, .meta')) extra.remove();
    return copy.textContent.trim();
  }));
}

/** A `width`×`height` PNG of one colour. */
function png(width, height) {
  const chunk = (type, data) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
    return Buffer.concat([head, data, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3, 0x60)]);
  const pixels = deflateSync(Buffer.concat(Array(height).fill(row)));
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', pixels), chunk('IEND', Buffer.alloc(0))]);
}

main(async (assert) => {
  const script = await fetch(`${BASE}/widget.js`).then((r) => r.arrayBuffer());
  const gzipped = gzipSync(Buffer.from(script)).length;
  assert.ok(gzipped <= 30 * 1024, `widget.js is ${gzipped} bytes gzipped`);

  const shop = await shopPage(BASE, HOST_PORT);
  const browser = await launch();
  try {
    const visitorContext = await context(browser);
    const page = await visitorContext.newPage();
    await page.goto(`http://localhost:${HOST_PORT}/`);
    await page.getByRole('button', { name: 'Chat with us' }).click();
    const messages = page.getByRole('list', { name: 'Messages' });
    const status = page.getByRole('status');
    const box = page.getByRole('textbox', { name: 'Message' });
    await box.fill('Do you have size 42?');
    await page.keyboard.press('Enter');
    await messages.locator('li.mine', { hasText: 'Do you have size 42?' }).waitFor();
    await status.filter({ hasText: 'number 1 in the queue' }).waitFor();

    // 1. The agent, in its own browser, finds it waiting first in the queue and takes it.
    const agentPage = await (await context(browser)).newPage();
    await signIn(agentPage, BASE, AGENT_EMAIL, PASSWORD);
    await agentPage.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    const waiting = agentPage.locator('[data-session]', { hasText: '#1 in queue' });
    await waiting.click();
    const desk = agentPage.getByRole('list', { name: 'Messages' });
    await desk.getByText('Do you have size 42?').waitFor();
    await agentPage.getByRole('button', { name: 'Take', exact: true }).click();
    await agentPage.locator('.head', { hasText: 'active' }).waitFor();
    await status.filter({ hasText: 'number 1' }).waitFor({ state: 'detached' });
    // The agent has it open, so the visitor's message shows read.
    await messages.locator('li.mine', { hasText: 'size 42' }).getByLabel('read').waitFor();

    // Typing both ways, then the reply.
    await box.fill('Black');
    await agentPage.locator('.typing', { hasText: 'The visitor is typing' }).waitFor();
    await agentPage.getByLabel('Reply').fill('We do! Which color?');
    const agentTyping = page.locator('.typing', { hasText: 'The agent is typing' });
    await agentTyping.waitFor();
    await agentPage.keyboard.press('Enter');
    await messages.getByText('We do! Which color?').waitFor();
    await agentTyping.waitFor({ state: 'detached' });
    // The visitor's panel is open: the reply is read, and the agent sees the tick.
    await desk.locator('li.mine', { hasText: 'Which color?' }).getByLabel('read').waitFor();
    assert.deepEqual(await accessibilityProblems(page), [], 'the widget');
    if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/widget.png` });

    // 2. The agent reloads while the visitor, offline, writes twice.
    await visitorContext.setOffline(true);
    const reloaded = agentPage.reload();
    for (const text of ['Black, please', 'And laces']) {
      await box.fill(text);
      await page.keyboard.press('Enter');
    }
    await messages.locator('[data-pending]').nth(1).waitFor();
    await reloaded;
    await visitorContext.setOffline(false);
    await messages.locator('[data-pending]').first().waitFor({ state: 'detached', timeout: 30000 });
    // Back on the same conversation after the reload, with both, once each.
    await desk.getByText('And laces').waitFor();
    await agentPage.getByLabel('Reply').fill('On their way');
    await agentPage.keyboard.press('Enter');
    await messages.getByText('On their way').waitFor();
    await desk.locator('li.mine', { hasText: 'On their way' }).waitFor();
    const expected = ['Do you have size 42?', 'We do! Which color?', 'Black, please', 'And laces', 'On their way'];
    const onlyChat = (list) => list.filter((t) => expected.includes(t));
    assert.deepEqual(onlyChat(await texts(messages)), expected, 'the visitor sees each once, in order');
    assert.deepEqual(onlyChat(await texts(desk)), expected, 'the agent sees each once, in order');
    const { body: listed } = await rest('GET', '/v1/sessions?business_id=shop&status=active', AGENT_TOKEN);
    const sid = listed.sessions[0].id;
    const { body: stored } = await rest('GET', `/v1/sessions/${sid}/messages?limit=200`, AGENT_TOKEN);
    assert.deepEqual(onlyChat(stored.messages.map((m) => m.content)), expected, 'stored once each');

    // 3. The visitor's photo reaches the console as a thumbnail that loads.
    await page.getByLabel('Attach a file').setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: png(400, 200) });
    await desk.getByRole('img', { name: 'photo.png' }).waitFor();
    await agentPage.waitForFunction(() => document.querySelector('ol.messages img[alt="photo.png"]')?.naturalWidth === 256);
    await messages.getByRole('img', { name: 'photo.png' }).waitFor();
    // The agent's receipt, with a line, reaches the widget as a link that fetches it.
    await agentPage.getByLabel('Attach a file').setInputFiles({ name: 'receipt.txt', mimeType: 'text/plain', buffer: Buffer.from('Order 42: paid') });
    await agentPage.getByLabel('Reply').fill('Your receipt');
    await agentPage.keyboard.press('Enter');
    const receipt = messages.getByRole('link', { name: 'receipt.txt' });
    await receipt.waitFor();
    assert.equal(await fetch(await receipt.getAttribute('href')).then((r) => r.text()), 'Order 42: paid');
    // The visitor edits an earlier message; the agent sees the new text, marked edited.
    page.once('dialog', (d) => d.accept('And red laces'));
    await messages.locator('li.mine', { hasText: 'And laces' }).getByRole('button', { name: /^Edit/ }).click();
    await desk.locator('li', { hasText: 'And red laces' }).filter({ hasText: '(edited)' }).waitFor();
    assert.deepEqual(await accessibilityProblems(page), [], 'the widget with files');

    // 4. Transferred to Returns: the visitor waits again; closed: told, and starts anew.
    await agentPage.getByLabel('Transfer to').selectOption({ label: 'Returns (department)' });
    await agentPage.getByRole('button', { name: 'Transfer' }).click();
    await agentPage.locator('.head', { hasText: 'waiting' }).waitFor();
    await status.filter({ hasText: /queue|Waiting/ }).waitFor();
    await agentPage.getByRole('button', { name: 'Close', exact: true }).click();
    await agentPage.locator('.head', { hasText: 'closed' }).waitFor();
    await status.filter({ hasText: 'closed' }).waitFor();
    // The visitor rates it; the rating is what the API keeps, once.
    await page.getByLabel('5★').check();
    await page.getByLabel('Comment').fill('Quick and kind');
    await page.getByRole('button', { name: 'Rate' }).click();
    await status.filter({ hasText: 'Thank you for your rating' }).waitFor();
    const { status: ratedStatus, body: rated } = await rest('GET', `/v1/sessions/${sid}/rating`, AGENT_TOKEN);
    assert.equal(ratedStatus, 200);
    assert.deepEqual([rated.score, rated.comment], [5, 'Quick and kind']);
    assert.deepEqual(await accessibilityProblems(page), [], 'the widget\'s rating form');
    await page.getByRole('button', { name: 'New chat' }).click();
    await status.filter({ hasText: 'queue' }).waitFor();
    assert.equal(await messages.locator('li').count(), 0, 'a new conversation starts empty');
    return { ok: true, gzipped };
  } catch (e) {
    for (const [i, ctx] of browser.contexts().entries()) {
      for (const [j, p] of ctx.pages().entries()) {
        await p.screenshot({ path: `/tmp/widget-failure-${i}-${j}.png` }).catch(() => {});
      }
    }
    throw e;
  } finally {
    await browser.close();
    shop.close();
  }
});
