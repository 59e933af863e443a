import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestServer, waitForMessage, type TestServer } from '../helpers/server.js';

/** Debian's chromium package; CHROMIUM_PATH points the test at another build. */
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  // Host names other than loopback fail to resolve, so the page cannot reach other hosts by name.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE [::1], EXCLUDE localhost',
];

const haveChromium = existsSync(CHROMIUM_PATH);
// CI installs Chromium (.ci/run), so there a missing browser fails the test instead of skipping it.
const required = process.env.CI === 'true';
if (!haveChromium && !required) {
  console.warn(`Skipping the demo page browser test: no Chromium at ${CHROMIUM_PATH}. Install it (apt-get install chromium) or set CHROMIUM_PATH to a Chromium binary.`);
}

/** Runs in the page: the computed font weight of an element. The project's types have no DOM, hence the cast. */
const FONT_WEIGHT = (element: unknown) =>
  (globalThis as unknown as { getComputedStyle(element: unknown): { fontWeight: string } }).getComputedStyle(element).fontWeight;

interface MessageView {
  status: string;
  channel: string | null;
  completedAt: string | null;
  steps: Array<{ channel: string; status: string; reason: string | null }>;
}

describe.skipIf(!haveChromium && !required)('demo app page', () => {
  let server: TestServer;
  let userDataDir: string;
  let context: BrowserContext;
  let page: Page;
  /** Requests the page made to any origin but the server's. */
  const foreignRequests: string[] = [];

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`CI=true requires Chromium at ${CHROMIUM_PATH}; .ci/run installs Debian's chromium package.`);
    server = await startTestServer();
    userDataDir = await mkdtemp(join(tmpdir(), 'cascade-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
    const origin = new URL(server.url).origin;
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin) return route.continue();
      foreignRequests.push(url);
      return route.abort();
    });
    page = context.pages()[0] ?? (await context.newPage());
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await server?.dispose();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  });

  it('shows a message and marks it read', async () => {
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));

    await page.goto(`${server.url}/demo/app?profileId=browser-1`);
    await page.locator('#connection[data-state="connected"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('#profile-id').textContent()).toBe('browser-1');

    const sent = await api<{ messageId: string }>(server, 'POST', '/v1/messages', {
      title: 'Delivery update',
      body: 'Your parcel arrives today between 10:00 and 12:00.',
      to: { profileId: 'browser-1' },
      rules: [{ channel: 'appMessaging', fallbackUnless: 'read' }],
    });
    expect(sent.status).toBe(201);
    const messageId = sent.body.messageId;

    const item = page.getByRole('listitem').filter({ hasText: 'Delivery update' });
    await item.waitFor({ timeout: 15_000 });
    expect(await item.getAttribute('data-state')).toBe('unread');
    expect(await item.locator('.message-title').evaluate(FONT_WEIGHT)).toBe('700');
    expect(await item.locator('.message-state').textContent()).toBe('Unread');
    expect(await page.locator('#empty').isHidden()).toBe(true);
    expect(await page.locator('#announcer').textContent()).toBe('New message: Delivery update');

    await item.getByRole('button').click();
    await page.locator('.message[data-state="read"]').waitFor({ timeout: 15_000 });
    expect(await item.locator('.message-state').textContent()).toBe('Read');
    expect(await item.locator('.message-title').evaluate(FONT_WEIGHT)).toBe('400');

    const view = await waitForMessage<MessageView>(server, messageId);
    expect(view.status).toBe('read');

    // DEMO_SCREENSHOT=/tmp/demo.png keeps a picture of the page for a look at its layout.
    if (process.env.DEMO_SCREENSHOT) await page.screenshot({ path: process.env.DEMO_SCREENSHOT, fullPage: true });

    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
  }, 60_000);

  it('falls back to SMS once the tab is closed', async () => {
    await page.close();
    const deadline = Date.now() + 15_000;
    while (server.appHub.connectionCount('default', 'browser-1') > 0) {
      if (Date.now() > deadline) throw new Error('the server still counts an open socket for browser-1 after the tab closed');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    const sent = await api<{ messageId: string }>(server, 'POST', '/v1/messages', {
      body: 'Your code is 4417',
      to: { profileId: 'browser-1', phoneNumber: '+12025550101' },
      rules: ['appMessaging', 'sms'],
    });
    expect(sent.status).toBe(201);
    const view = await waitForMessage<MessageView>(server, sent.body.messageId);

    expect(view.status).toBe('delivered');
    expect(view.channel).toBe('sms');
    expect(view.steps[0]).toMatchObject({ channel: 'appMessaging', status: 'failed' });
  }, 60_000);
});
