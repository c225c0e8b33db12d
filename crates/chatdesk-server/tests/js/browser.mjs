// Debian's Chromium, driven by playwright-core: never a downloaded browser.
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import http from 'node:http';

const require = createRequire(import.meta.url);

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** A fresh browser context: its own storage, as a second person's browser. The pages'
 * Content-Security-Policy is bypassed only so that the accessibility scan can be injected. */
export function context(browser) {
  return browser.newContext({ bypassCSP: true, viewport: { width: 1200, height: 800 } });
}

/** axe-core's serious and critical findings on the page as it is now. */
export async function accessibilityProblems(page) {
  await page.addScriptTag({ content: readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8') });
  const result = await page.evaluate(() => window.axe.run());
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

/** Sign in to the console at `base` on `page`. */
export async function signIn(page, base, email, password) {
  await page.goto(`${base}/console/`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** A shop's own page on `localhost:port` (another origin than chatdesk's at `base`), with
 * the widget's one tag; resolves to its server. */
export function shopPage(base, port) {
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shoe shop</title></head>
<body><main><h1>Shoe shop</h1><p>Shoes of every size.</p></main>
<script src="${base}/widget.js" data-business="shop" async></script></body></html>`;
  const server = http.createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page);
  });
  return new Promise((resolve) => server.listen(Number(port), 'localhost', () => resolve(server)));
}
