// The widget outside business hours, in Chromium: the visitor sees the away message and an
// offline form instead of a chat, leaves a message, and it is stored as an `offline`
// session with the visitor's contact.
import { main, rest } from './lib.mjs';
import { launch, context, accessibilityProblems, shopPage } from './browser.mjs';

const { CHATDESK_URL: BASE, HOST_PORT, AGENT_TOKEN } = process.env;

main(async (assert) => {
  const shop = await shopPage(BASE, HOST_PORT);
  const browser = await launch();
  try {
    const page = await (await context(browser)).newPage();
    await page.goto(`http://localhost:${HOST_PORT}/`);
    await page.getByRole('button', { name: 'Chat with us' }).click();
    const status = page.getByRole('status');
    await status.filter({ hasText: 'We answer from 9 to 5.' }).waitFor();
    assert.ok(await page.getByRole('textbox', { name: 'Message', exact: true }).isHidden(), 'no chat outside hours');
    assert.deepEqual(await accessibilityProblems(page), [], 'the offline form');
    await page.getByLabel('Your name').fill('Vera');
    await page.getByLabel('Your email').fill('vera@example.com');
    await page.getByLabel('Your message').fill('Please call me tomorrow');
    await page.getByRole('button', { name: 'Leave a message' }).click();
    await status.filter({ hasText: 'we will write back by email' }).waitFor();
    const { body } = await rest('GET', '/v1/sessions?business_id=shop', AGENT_TOKEN);
    const offline = body.sessions.filter((s) => s.session_type === 'offline');
    assert.equal(offline.length, 1, JSON.stringify(body.sessions));
    assert.equal(body.sessions.length, 1, 'no chat session was opened besides');
    const { body: messages } = await rest('GET', `/v1/sessions/${offline[0].id}/messages`, AGENT_TOKEN);
    assert.equal(messages.messages[0].content, 'Please call me tomorrow');
    assert.equal(offline[0].contact?.email, 'vera@example.com');
    return { ok: true };
  } finally {
    await browser.close();
    shop.close();
  }
});
