// The demo app page: one profile's appMessaging feed, live, through the app SDK. This file is
// browser JavaScript served as is, and the SDK is the esbuild bundle at /demo/app/sdk.js.
import { CascadeAppClient } from '/demo/app/sdk.js';

const profileId = new URLSearchParams(location.search).get('profileId')?.trim() || 'demo';

const connection = document.getElementById('connection');
const list = document.getElementById('messages');
const empty = document.getElementById('empty');
const unreadCount = document.getElementById('unread-count');
const errorLine = document.getElementById('error');
const announcer = document.getElementById('announcer');

/** List items by message id, so a message seen twice is shown once. */
const items = new Map();
const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

document.getElementById('profile-id').textContent = profileId;
document.getElementById('example').textContent = exampleCommand();

/** Requests an app token from this server; the SDK calls it before each connection attempt. */
async function fetchToken() {
  const response = await fetch('/demo/app/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ profileId }),
  });
  if (!response.ok) throw new Error(`POST /demo/app/token returned HTTP ${response.status}`);
  const { token } = await response.json();
  return token;
}

const client = new CascadeAppClient({ baseUrl: location.origin, token: fetchToken });

client.on('connected', () => {
  setConnection('connected', 'Connected');
  errorLine.hidden = true;
});
client.on('disconnected', ({ reconnectInMs }) => {
  const text = reconnectInMs === null ? 'Offline' : `Connection lost, retrying in ${Math.ceil(reconnectInMs / 1000)} s`;
  setConnection('offline', text);
});
client.on('error', (error) => {
  if (!client.connected) setConnection('offline', 'Not connected, retrying');
  showError(error.message);
});
client.on('message', (message) => {
  if (items.has(message.messageId)) return;
  const item = renderMessage(message);
  items.set(message.messageId, item);
  list.prepend(item);
  updateCounts();
  announce(`New message${message.title ? `: ${message.title}` : ''}`);
});

client.connect().catch((error) => showError(error.message));

function setConnection(state, text) {
  connection.dataset.state = state;
  connection.textContent = text;
}

function showError(text) {
  errorLine.textContent = text;
  errorLine.hidden = false;
}

function announce(text) {
  announcer.textContent = text;
}

function renderMessage(message) {
  const item = document.createElement('li');
  item.className = 'message';
  item.dataset.messageId = message.messageId;

  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'message-button';

  if (message.title) {
    const title = document.createElement('span');
    title.className = 'message-title';
    title.textContent = message.title;
    button.append(title);
  }
  const body = document.createElement('span');
  body.className = 'message-body';
  body.textContent = message.body;
  button.append(body);

  const meta = document.createElement('span');
  meta.className = 'message-meta';
  const time = document.createElement('time');
  time.dateTime = message.sentOn;
  time.textContent = timeFormat.format(new Date(message.sentOn));
  const state = document.createElement('span');
  state.className = 'message-state';
  meta.append(time, state);
  button.append(meta);

  item.append(button);
  setState(item, message.readAt ? 'read' : 'unread');
  button.addEventListener('click', () => markRead(item));
  return item;
}

function setState(item, state) {
  item.dataset.state = state;
  const labels = { unread: 'Unread', marking: 'Marking as read…', read: 'Read' };
  item.querySelector('.message-state').textContent = labels[state];
}

async function markRead(item) {
  if (item.dataset.state !== 'unread') return;
  setState(item, 'marking');
  try {
    await client.markRead(item.dataset.messageId);
    setState(item, 'read');
    announce('Message marked as read');
  } catch (error) {
    setState(item, 'unread');
    showError(`Marking the message read failed: ${error.message}`);
  }
  updateCounts();
}

function updateCounts() {
  const unread = [...items.values()].filter((item) => item.dataset.state !== 'read').length;
  empty.hidden = items.size > 0;
  unreadCount.textContent = items.size === 0 ? '' : `(${unread} unread of ${items.size})`;
}

function exampleCommand() {
  const body = {
    title: 'Your parcel',
    body: 'It arrives today between 10:00 and 12:00.',
    to: { profileId, phoneNumber: '+12025550101' },
    rules: [{ channel: 'appMessaging', fallbackUnless: 'read', fallbackAfter: 'PT2M' }, 'sms'],
  };
  // The JSON goes in single quotes, so a quote in the profile id is closed, escaped and reopened.
  const json = JSON.stringify(body, null, 2).replaceAll("'", "'\\''");
  return [
    `curl -s ${location.origin}/v1/messages \\`,
    '  -H "Authorization: Bearer $(cat data/api-key)" -H "Content-Type: application/json" \\',
    `  -d '${json}'`,
  ].join('\n');
}
