// The console in Chromium: an agent signs in, finds a visitor's conversation waiting with its
// place in the queue, takes it, answers, sees the visitor's next message arrive live, and
// closes it; a customer cannot get in; no serious accessibility problem on the pages.
import { readFileSync } from 'node:fs';
import { main } from './lib.mjs';
import { launch, context, accessibilityProblems, signIn as signInAt } from './browser.mjs';

const { CHATDESK_URL: BASE, AGENT_EMAIL, CUSTOMER_EMAIL, PASSWORD, VISITOR_ID, SESSION_ID, ADMIN_TOKEN, BOT_KEY, SCREENSHOTS } = process.env;

async function asVisitor(method, path, body) {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-visitor-id': VISITOR_ID },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const signIn = (page, email) => signInAt(page, BASE, email, PASSWORD);

/** A first visit's sign-in page: until the load event, and the bytes it fetched. */
async function firstLoad(browser) {
  const page = await (await context(browser)).newPage();
  await page.goto(`${BASE}/console/`);
  await page.getByLabel('Email').waitFor();
  return page.evaluate(() => {
    const [nav] = performance.getEntriesByType('navigation');
    const files = performance.getEntriesByType('resource');
    return {
      load_ms: Math.round(nav.loadEventEnd),
      files: files.length + 1,
      bytes: files.reduce((sum, f) => sum + f.transferSize, nav.transferSize),
    };
  });
}

main(async (assert) => {
  const browser = await launch();
  try {
    const first_load = await firstLoad(browser);
    const made = await fetch(`${BASE}/v1/canned-responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ code: 'size', text: 'Which width, {{contact.name}}?' }),
    });
    assert.equal(made.status, 201);
    const vip = await fetch(`${BASE}/v1/labels`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ name: 'VIP' }),
    }).then((r) => r.json());
    const agentContext = await context(browser);
    const page = await agentContext.newPage();
    await signIn(page, AGENT_EMAIL);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    const waiting = page.locator('[data-session]', { hasText: 'Shoes do not fit' });
    await waiting.waitFor();
    assert.match(await waiting.textContent(), /#1 in queue/);
    const problems = await accessibilityProblems(page);
    assert.deepEqual(problems, [], 'the inbox');
    if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/console-inbox.png` });

    await waiting.click();
    const messages = page.getByRole('list', { name: 'Messages' });
    await messages.getByText('My shoes are too small').waitFor();
    await page.getByRole('button', { name: 'Take', exact: true }).click();
    await page.locator('.head', { hasText: 'active' }).waitFor();

    await page.getByLabel('Reply').fill('Sorry to hear that! Which size do you need?');
    await page.keyboard.press('Enter');
    await messages.locator('li.mine', { hasText: 'Which size do you need?' }).waitFor();
    await page.locator('[data-pending]').waitFor({ state: 'detached' });

    // The visitor answers through the API: the console shows it without a reload.
    const sent = await asVisitor('POST', `/v1/sessions/${SESSION_ID}/messages`, { content: 'Size 42, please' });
    assert.equal(sent.status, 201);
    await messages.getByText('Size 42, please').waitFor();
    // The agent's view marked it read: the visitor's side can show the tick.
    const history = await asVisitor('GET', `/v1/sessions/${SESSION_ID}/messages`);
    const mine = history.body.messages.filter((m) => m.content.includes('Which size'));
    assert.equal(mine.length, 1, 'the reply is stored once');
    assert.equal(mine[0].sender_type, 'agent');
    assert.deepEqual(await accessibilityProblems(page), [], 'a conversation');
    if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/console-conversation.png` });

    // A private note: listed for staff, never in the visitor's history.
    await page.getByLabel('Note', { exact: true }).fill('Regular customer, offer free shipping');
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.getByRole('list', { name: 'Private notes' }).getByText('offer free shipping').waitFor();
    const seen = await asVisitor('GET', `/v1/sessions/${SESSION_ID}/messages`);
    assert.ok(!JSON.stringify(seen.body).includes('free shipping'), 'the visitor never sees a note');
    assert.equal((await asVisitor('GET', `/v1/sessions/${SESSION_ID}/notes`)).status, 403);

    // The transcript downloads as a page holding the conversation.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Transcript', exact: true }).click(),
    ]);
    const saved = readFileSync(await download.path(), 'utf8');
    assert.ok(saved.includes('My shoes are too small') && saved.includes('Which size do you need?'), saved);
    assert.ok(!saved.includes('free shipping'), 'no private note in a transcript');

    // The contact panel.
    await page.getByText('Contact', { exact: true }).click();
    await page.getByLabel('Name').fill('Vera Visitor');
    await page.getByLabel('Email', { exact: true }).fill('vera@example.com');
    await page.getByRole('button', { name: 'Save contact' }).click();
    await page.getByRole('button', { name: 'Saved' }).waitFor();
    const contact = (await asVisitor('GET', `/v1/sessions/${SESSION_ID}/contact`)).body;
    assert.deepEqual([contact.name, contact.email], ['Vera Visitor', 'vera@example.com']);

    // A canned response, rendered for this conversation, goes into the reply box.
    await page.getByLabel('Canned response').selectOption({ label: '/size: Which width, {{contact.name}}?' });
    await page.waitForFunction(() => document.getElementById('reply').value === 'Which width, Vera Visitor?');
    await page.keyboard.press('Enter');
    await messages.locator('li.mine', { hasText: 'Which width, Vera Visitor?' }).waitFor();
    // Edited in place, then another reply deleted: the visitor's history follows.
    page.once('dialog', (d) => d.accept('Which width and colour, Vera?'));
    await messages.locator('li.mine', { hasText: 'Which width, Vera Visitor?' }).getByRole('button', { name: /^Edit/ }).click();
    await messages.locator('li.mine', { hasText: 'Which width and colour, Vera? (edited)' }).waitFor();
    await page.getByLabel('Reply').fill('Oops, wrong chat');
    await page.keyboard.press('Enter');
    const oops = messages.locator('li.mine', { hasText: 'Oops, wrong chat' });
    await oops.getByRole('button', { name: /^Delete/ }).waitFor();
    page.once('dialog', (d) => d.accept());
    await oops.getByRole('button', { name: /^Delete/ }).click();
    await oops.waitFor({ state: 'detached' });
    const revised = (await asVisitor('GET', `/v1/sessions/${SESSION_ID}/messages`)).body.messages;
    assert.ok(revised.some((m) => m.content === 'Which width and colour, Vera?' && m.edited_at), JSON.stringify(revised));
    assert.ok(revised.some((m) => m.deleted_at && m.content === ''), 'the deleted reply keeps its seq, without content');

    // A label, then the inbox filtered by it.
    await page.getByRole('checkbox', { name: 'VIP' }).check();
    await page.getByRole('button', { name: 'Save labels' }).click();
    await page.locator('form.labels').getByRole('button', { name: 'Saved' }).waitFor();
    const labeled = await fetch(`${BASE}/v1/sessions/${SESSION_ID}/labels`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then((r) => r.json());
    assert.deepEqual(labeled.labels.map((l) => l.id), [vip.id]);
    await page.getByRole('button', { name: 'All open' }).click();
    await page.getByLabel('Filter by label').selectOption({ label: 'VIP' });
    await page.locator('ul.sessions [data-session]').first().waitFor();
    assert.deepEqual(await page.locator('ul.sessions [data-session]').evaluateAll((b) => b.map((x) => x.dataset.session)), [SESSION_ID]);
    await page.getByLabel('Filter by label').selectOption({ label: 'Any label' });

    // Topic and priority, then a transfer to another department's queue.
    await page.getByLabel('Topic').fill('Size exchange');
    await page.getByLabel('Priority', { exact: true }).selectOption('high');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.locator('.head', { hasText: 'priority high' }).waitFor();
    let now = (await asVisitor('GET', `/v1/sessions/${SESSION_ID}`)).body;
    assert.deepEqual([now.topic, now.priority], ['Size exchange', 'high']);
    await page.getByLabel('Transfer to').selectOption({ label: 'Billing (department)' });
    await page.getByRole('button', { name: 'Transfer' }).click();
    await page.locator('.head', { hasText: 'waiting' }).waitFor();
    now = (await asVisitor('GET', `/v1/sessions/${SESSION_ID}`)).body;
    assert.equal(now.status, 'waiting');
    assert.equal(now.agent_id, null);
    assert.ok(now.department_id, 'in the department\'s queue');

    await page.getByRole('button', { name: 'Close', exact: true }).click();
    await page.locator('.head', { hasText: 'closed' }).waitFor();
    const closed = await asVisitor('GET', `/v1/sessions/${SESSION_ID}`);
    assert.equal(closed.body.status, 'closed');

    // An assistant's conversation, handed off to people: waiting with its transcript; the
    // agent hands it back.
    const asBot = async (method, path, body) => {
      const res = await fetch(`${BASE}${path}`, {
        method, headers: { 'content-type': 'application/json', 'x-api-key': BOT_KEY }, body: JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    };
    const held = await asBot('POST', '/v1/sessions', { user_id: 'shopper', assistant: true, topic: 'Bot chat' });
    assert.equal(held.status, 201, JSON.stringify(held.body));
    const botSession = held.body.session.id;
    await asBot('POST', `/v1/sessions/${botSession}/messages`, { content: 'I am the assistant.' });
    await page.getByRole('button', { name: 'Waiting', exact: true }).click();
    const handed = await asBot('POST', `/v1/sessions/${botSession}/handoff`, { reason: 'needs a person' });
    assert.equal(handed.status, 200);
    await page.locator('[data-session]', { hasText: 'Bot chat' }).click();
    await messages.getByText('Handed off to a person: needs a person').waitFor();
    await page.getByRole('button', { name: 'Hand back to assistant' }).click();
    await page.locator('.head', { hasText: 'active' }).waitFor();
    assert.equal((await asBot('GET', `/v1/sessions/${botSession}`)).body.agent_id, held.body.session.agent_id);

    // Search finds a message and opens it in its conversation.
    await page.getByLabel('Search conversations').fill('small');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('list', { name: 'Results' }).getByText('My shoes are too small').click();
    await messages.locator('li.hit', { hasText: 'My shoes are too small' }).waitFor();

    // Reports: the charts carry the numbers the API gives for the same range.
    await page.getByRole('button', { name: 'Reports' }).click();
    await page.locator('[data-stat="sessions"]').waitFor();
    const token = await page.evaluate(() => sessionStorage.getItem('chatdesk.token'));
    const from = new Date(`${await page.getByLabel('From').inputValue()}T00:00:00Z`);
    const to = new Date(new Date(`${await page.getByLabel('To').inputValue()}T00:00:00Z`).getTime() + 86400000);
    const stats = await (await fetch(`${BASE}/v1/stats?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`,
      { headers: { authorization: `Bearer ${token}` } })).json();
    assert.equal(await page.locator('[data-stat="sessions"]').textContent(), String(stats.overall.sessions));
    assert.equal(await page.locator('[data-stat="messages"]').textContent(), String(stats.overall.messages));
    const hourBars = page.getByRole('img', { name: 'Messages by hour (UTC)' }).locator('rect');
    const drawn = await hourBars.evaluateAll((rects) => rects.map((r) => Number(r.dataset.value)));
    const expected = [...stats.busiest_hours].sort((a, b) => a.hour - b.hour).map((h) => h.messages);
    assert.deepEqual(drawn, expected);
    assert.ok(expected.length > 0 && stats.overall.messages >= 3, JSON.stringify(stats.overall));
    assert.deepEqual(await accessibilityProblems(page), [], 'the reports');
    if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/console-reports.png` });

    // A customer's account does not get in.
    const customerPage = await (await context(browser)).newPage();
    await signIn(customerPage, CUSTOMER_EMAIL);
    await customerPage.getByRole('alert').filter({ hasText: 'for agents and admins' }).waitFor();
    assert.deepEqual(await accessibilityProblems(customerPage), [], 'the sign-in page');
    return { ok: true, first_load };
  } catch (e) {
    for (const [i, ctx] of browser.contexts().entries()) {
      for (const [j, p] of ctx.pages().entries()) {
        await p.screenshot({ path: `/tmp/console-failure-${i}-${j}.png` }).catch(() => {});
        console.error(`page ${i}.${j}:`, await p.locator('main').innerHTML().catch(() => '?'));
      }
    }
    throw e;
  } finally {
    await browser.close();
  }
});
