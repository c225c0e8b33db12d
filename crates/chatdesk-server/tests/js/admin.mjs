// The console's admin page in Chromium: an admin changes routing, adds a department and an
// agent to it, sets the agent's cap, adds a canned response and a webhook (its secret shown
// once) and deletes them,
// each checked through the API. An agent, and a customer's token put into the page by hand,
// are refused by the API, and the page says so.
import { main, rest } from './lib.mjs';
import { launch, context, accessibilityProblems } from './browser.mjs';

const { CHATDESK_URL: BASE, ADMIN_EMAIL, AGENT_EMAIL, PASSWORD, ADMIN_TOKEN, CUSTOMER_TOKEN, SCREENSHOTS } = process.env;

async function signIn(page, email) {
  await page.goto(`${BASE}/console/`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
}

main(async (assert) => {
  const browser = await launch();
  try {
    const page = await (await context(browser)).newPage();
    await signIn(page, ADMIN_EMAIL);
    await page.getByRole('button', { name: 'Admin' }).click();
    const admin = page.locator('.admin');

    await admin.getByLabel('Routing').selectOption('auto');
    await admin.getByRole('button', { name: 'Save settings' }).click();
    await admin.getByLabel('Routing').locator('option[selected]', { hasText: 'auto' }).waitFor({ state: 'attached' });
    assert.equal((await rest('GET', '/v1/tenant/settings', ADMIN_TOKEN)).body.routing, 'auto');

    await admin.getByLabel('New department').fill('Sales');
    await admin.getByRole('button', { name: 'Add department' }).click();
    await admin.locator('li', { hasText: 'Sales' }).waitFor();
    await admin.getByLabel('Agent id').fill('ag9');
    await admin.getByRole('button', { name: 'Add agent' }).click();
    await admin.locator('li', { hasText: 'Sales' }).getByText('ag9').waitFor();
    await admin.locator('form.cap[data-agent="ag9"]').getByLabel('Cap').fill('3');
    await admin.locator('form.cap[data-agent="ag9"]').getByRole('button', { name: 'Set cap' }).click();
    await admin.locator('form.cap[data-agent="ag9"] input[value="3"]').waitFor();
    const agents = (await rest('GET', '/v1/agents', ADMIN_TOKEN)).body;
    assert.equal(agents.find((a) => a.agent_id === 'ag9').max_concurrent, 3);

    await admin.getByLabel("The tenant's schedule").fill('{"time_zone": "Europe/Berlin", "weekly": {"mon": [["09:00", "17:00"]]}}');
    await admin.getByRole('button', { name: 'Save hours' }).click();
    await admin.getByLabel("The tenant's schedule").filter({ hasText: 'Europe/Berlin' }).waitFor();
    const schedules = (await rest('GET', '/v1/business-hours', ADMIN_TOKEN)).body.schedules;
    assert.deepEqual(schedules.map((x) => x.hours.time_zone), ['Europe/Berlin']);

    await admin.getByLabel('New label').fill('VIP');
    await admin.getByRole('button', { name: 'Add label' }).click();
    await admin.getByRole('button', { name: 'Delete label VIP' }).waitFor();
    assert.deepEqual((await rest('GET', '/v1/labels', ADMIN_TOKEN)).body.labels.map((l) => l.name), ['VIP']);

    await admin.getByLabel('Code').fill('thanks');
    await admin.getByLabel('Text').fill('Thanks, {{contact.name}}!');
    await admin.getByRole('button', { name: 'Add canned response' }).click();
    await admin.getByText('/thanks').waitFor();
    const canned = (await rest('GET', '/v1/canned-responses', ADMIN_TOKEN)).body.canned_responses;
    assert.deepEqual(canned.map((c) => [c.code, c.text]), [['thanks', 'Thanks, {{contact.name}}!']]);

    await admin.getByLabel('URL').fill('https://example.com/hook');
    await admin.getByRole('button', { name: 'Add webhook' }).click();
    const secret = page.getByText('Signing secret (shown once)');
    await secret.waitFor();
    const hooks = (await rest('GET', '/v1/webhooks', ADMIN_TOKEN)).body;
    assert.equal(hooks.length, 1);
    assert.equal(hooks[0].secret, undefined, 'the list never shows the secret');
    assert.deepEqual(await accessibilityProblems(page), [], 'the admin page');
    if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/console-admin.png`, fullPage: true });
    const hookSection = admin.locator('section', { has: page.getByRole('heading', { name: 'Webhooks' }) });
    await hookSection.getByRole('button', { name: 'Delete', exact: true }).click();
    await hookSection.getByText('None.').waitFor();
    assert.equal((await rest('GET', '/v1/webhooks', ADMIN_TOKEN)).body.length, 0);
    await admin.getByRole('button', { name: 'Delete /thanks' }).click();
    await admin.getByText('/thanks').waitFor({ state: 'detached' });
    assert.equal((await rest('GET', '/v1/canned-responses', ADMIN_TOKEN)).body.canned_responses.length, 0);

    // An agent may use the console, but not its admin page: the API says no.
    const agentPage = await (await context(browser)).newPage();
    await signIn(agentPage, AGENT_EMAIL);
    await agentPage.getByRole('button', { name: 'Admin' }).click();
    await agentPage.getByRole('alert').filter({ hasText: 'This page is for admins' }).waitFor();

    // A customer's token, put into the page by hand past the sign-in check: the same.
    const customerContext = await context(browser);
    const customerPage = await customerContext.newPage();
    await customerPage.goto(`${BASE}/console/`);
    await customerPage.evaluate((token) => {
      sessionStorage.setItem('chatdesk.token', token);
      sessionStorage.setItem('chatdesk.me', JSON.stringify({ id: 'c1', email: 'c1@example.com', role: 'customer' }));
    }, CUSTOMER_TOKEN);
    await customerPage.reload();
    await customerPage.getByRole('button', { name: 'Admin' }).click();
    await customerPage.getByRole('alert').filter({ hasText: 'This page is for admins' }).waitFor();
    return { ok: true };
  } finally {
    await browser.close();
  }
});
