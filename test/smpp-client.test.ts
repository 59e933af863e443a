import { createServer, type AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeSms } from '../src/channels/sms/encoding.js';
import { messageIdKeys, parseDeliveryReceipt } from '../src/channels/sms/receipt.js';
import { SmppBindError, SmppClient, SmppConnectionError, type DeliverSm, type SmppClientOptions } from '../src/channels/sms/smpp-client.js';
import { smpp, type Pdu, type SmppSession } from '../src/channels/sms/smpp-pdu.js';
import { parseSmppUrl, SmppUrlError } from '../src/channels/sms/smpp-url.js';
import { startSandboxSmsc, type SandboxSmsc } from '../src/sandbox/smsc.js';

const silent = pino({ level: 'silent' });
const WAIT = { timeout: 10_000, interval: 20 };

/** Creates a pino logger that keeps every line it writes, parsed. */
function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

function gsmPart(text: string) {
  const part = encodeSms(text, { allowUnicode: true, reference: 1 }).parts[0];
  if (part === undefined) throw new Error('encodeSms returned no part');
  return part;
}

/** Resolves with what `promise` rejected with, or null when it resolved. */
function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => null,
    (reason: unknown) => reason,
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface ScriptedSmsc {
  port: number;
  binds: number;
  /** Commands of every request the SMSC received, in order. */
  requests: string[];
  /** Responses the SMSC received to its own requests. */
  responses: Pdu[];
  sessions: SmppSession[];
  close(): Promise<void>;
}

/**
 * Starts an SMSC on the `smpp` package's server side that accepts every bind and responds only
 * to the requests selected in `answer`, so tests can produce dead links and lost responses.
 */
async function startScriptedSmsc(answer: { enquireLink: boolean; submit: boolean }): Promise<ScriptedSmsc> {
  const state: ScriptedSmsc = { port: 0, binds: 0, requests: [], responses: [], sessions: [], close: async () => undefined };
  const server = smpp.createServer((session) => {
    state.sessions.push(session);
    session.on('error', () => session.destroy());
    session.on('pdu', (pdu: Pdu) => {
      if (pdu.isResponse()) {
        state.responses.push(pdu);
        return;
      }
      state.requests.push(pdu.command);
      if (pdu.command === 'bind_transceiver') {
        state.binds += 1;
        session.send(pdu.response({ system_id: 'scripted' }));
      } else if (pdu.command === 'enquire_link' && answer.enquireLink) {
        session.send(pdu.response());
      } else if (pdu.command === 'submit_sm' && answer.submit) {
        session.send(pdu.response({ message_id: 'ABC' }));
      } else if (pdu.command === 'unbind') {
        session.send(pdu.response(), () => session.close());
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.port = (server.address() as AddressInfo).port;
  state.close = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const session of state.sessions) session.destroy();
    await closed;
  };
  return state;
}

describe('SmppClient', () => {
  const cleanups: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function sandbox(options: Partial<Parameters<typeof startSandboxSmsc>[0]> = {}): Promise<SandboxSmsc> {
    const smsc = await startSandboxSmsc({ logger: silent, ...options });
    cleanups.push(() => smsc.close());
    return smsc;
  }

  function client(options: Partial<SmppClientOptions> & Pick<SmppClientOptions, 'port'>): SmppClient {
    const created = new SmppClient({ host: '127.0.0.1', systemId: 'sandbox', password: 'sandbox', logger: silent, ...options });
    cleanups.push(() => created.close());
    return created;
  }

  it('binds and returns the submit message id', async () => {
    const smsc = await sandbox();
    const esme = client({ port: smsc.port });

    await esme.connect();
    expect(esme.state).toBe('bound');

    const result = await esme.submit({
      source: 'Cascade',
      sourceTon: 5,
      sourceNpi: 0,
      destination: '12025550103',
      part: gsmPart('Hello from the client test'),
      registeredDelivery: true,
    });

    expect(result.commandStatus).toBe(0);
    const record = await smsc.waitForSubmit((submit) => submit.destination === '12025550103');
    expect(result.messageId).toBe(record.messageId);
    expect(record.text).toBe('Hello from the client test');
    expect(record.dataCoding).toBe(0x00);
    expect(record.destinationTon).toBe(1);
    expect(record.destinationNpi).toBe(1);
    expect(record.source).toBe('Cascade');
    expect(record.sourceTon).toBe(5);
    expect(record.registeredDelivery).toBe(1);
  });

  it('returns the status of a rejected submit', async () => {
    const smsc = await sandbox();
    const esme = client({ port: smsc.port });
    await esme.connect();

    const result = await esme.submit({
      source: 'Cascade',
      sourceTon: 5,
      sourceNpi: 0,
      destination: '12025550104',
      part: gsmPart('rejected'),
      registeredDelivery: true,
    });

    expect(result).toEqual({ commandStatus: 0x0b, messageId: null });
  });

  it('passes receipts to onDeliver listeners', async () => {
    const smsc = await sandbox({ receiptDelayMs: { delivered: 50, undeliverable: 50 } });
    const esme = client({ port: smsc.port });
    const delivered: DeliverSm[] = [];
    esme.onDeliver((pdu) => {
      delivered.push(pdu);
    });
    await esme.connect();

    const result = await esme.submit({
      source: 'Cascade',
      sourceTon: 5,
      sourceNpi: 0,
      destination: '12025550101',
      part: gsmPart('receipt please'),
      registeredDelivery: true,
    });

    const pdu = await vi.waitFor(() => {
      const first = delivered[0];
      if (first === undefined) throw new Error('no deliver_sm yet');
      return first;
    }, WAIT);
    expect(pdu.esm_class & 0x3c).toBe(0x04);
    expect(pdu.source_addr).toBe('12025550101');
    const receipt = parseDeliveryReceipt(pdu);
    expect(receipt?.state).toBe('delivered');
    const submittedKeys = messageIdKeys(result.messageId ?? '');
    expect(messageIdKeys(receipt?.messageId ?? '').some((key) => submittedKeys.includes(key))).toBe(true);
  });

  it('requests a resend after a listener failure', async () => {
    const smsc = await sandbox({ receiptDelayMs: { delivered: 10, undeliverable: 10 } });
    const esme = client({ port: smsc.port });
    const texts: string[] = [];
    esme.onDeliver((pdu) => {
      texts.push(pdu.short_message.toString('latin1'));
      if (texts.length === 1) throw new Error('store unavailable');
    });
    await esme.connect();

    await esme.submit({ source: 'Cascade', sourceTon: 5, sourceNpi: 0, destination: '12025550101', part: gsmPart('again'), registeredDelivery: true });

    await vi.waitFor(() => expect(texts).toHaveLength(2), WAIT);
    expect(texts[1]).toBe(texts[0]);
  });

  it('reconnects after the SMSC drops it', async () => {
    const smsc = await sandbox();
    const { logger, lines } = captureLogger();
    const esme = client({ port: smsc.port, logger, reconnectMinMs: 20, reconnectMaxMs: 100 });
    await esme.connect();

    smsc.dropConnections();

    await vi.waitFor(() => {
      expect(lines.some((line) => line['msg'] === 'SMPP bound as transceiver' && line['connectionId'] === 2)).toBe(true);
    }, WAIT);
    const reconnect = lines.find((line) => line['msg'] === 'SMPP reconnect scheduled');
    expect(reconnect?.['attempt']).toBe(1);
    expect(typeof reconnect?.['delayMs']).toBe('number');
    expect(lines.some((line) => line['msg'] === 'SMPP connection closed' && line['connectionId'] === 1)).toBe(true);

    const result = await esme.submit({ source: 'Cascade', sourceTon: 5, sourceNpi: 0, destination: '12025550103', part: gsmPart('after'), registeredDelivery: false });
    expect(result.commandStatus).toBe(0);
  });

  it('rejects connect on a wrong password', async () => {
    const smsc = await sandbox({ systemId: 'acme', password: 'right' });
    const { logger, lines } = captureLogger();
    const esme = client({ port: smsc.port, systemId: 'acme', password: 'wrong-pw', logger });

    const error = await rejectionOf(esme.connect());

    expect(error).toBeInstanceOf(SmppBindError);
    expect((error as SmppBindError).commandStatus).toBe(0x0e);
    expect((error as SmppBindError).message).toContain('ESME_RINVPASWD');
    expect((error as SmppBindError).message).toContain('"acme"');
    expect((error as SmppBindError).message).not.toContain('wrong-pw');
    expect(esme.state).toBe('closed');
    expect(JSON.stringify(lines)).not.toContain('wrong-pw');
  });

  it('rejects submit when not bound', async () => {
    const esme = client({ port: await freePort() });

    const error = await rejectionOf(esme.submit({ source: 'Cascade', sourceTon: 5, sourceNpi: 0, destination: '12025550101', part: gsmPart('x'), registeredDelivery: true }));

    expect(error).toBeInstanceOf(SmppConnectionError);
    expect((error as SmppConnectionError).reason).toBe('not-bound');
  });

  it('keeps reconnecting after an unreachable connect', async () => {
    const { logger, lines } = captureLogger();
    const esme = client({ port: await freePort(), logger, reconnectMinMs: 20, reconnectMaxMs: 40 });

    const error = await rejectionOf(esme.connect());

    expect(error).toBeInstanceOf(SmppConnectionError);
    expect((error as SmppConnectionError).reason).toBe('unreachable');
    await vi.waitFor(() => {
      expect(lines.filter((line) => line['msg'] === 'SMPP reconnect scheduled').length).toBeGreaterThanOrEqual(2);
    }, WAIT);
    expect(esme.state).toBe('connecting');
  });

  it('times out a submit without response', async () => {
    const smsc = await startScriptedSmsc({ enquireLink: true, submit: false });
    cleanups.push(() => smsc.close());
    const esme = client({ port: smsc.port, submitTimeoutMs: 100 });
    await esme.connect();

    const error = await rejectionOf(esme.submit({ source: 'Cascade', sourceTon: 5, sourceNpi: 0, destination: '12025550101', part: gsmPart('x'), registeredDelivery: true }));

    expect(error).toBeInstanceOf(SmppConnectionError);
    expect((error as SmppConnectionError).reason).toBe('timeout');
  });

  it('rejects a waiting submit on connection loss', async () => {
    const smsc = await startScriptedSmsc({ enquireLink: true, submit: false });
    cleanups.push(() => smsc.close());
    const esme = client({ port: smsc.port, submitTimeoutMs: 10_000, reconnectMinMs: 20 });
    await esme.connect();

    const pending = esme.submit({ source: 'Cascade', sourceTon: 5, sourceNpi: 0, destination: '12025550101', part: gsmPart('x'), registeredDelivery: true });
    await vi.waitFor(() => expect(smsc.requests).toContain('submit_sm'), WAIT);
    for (const session of smsc.sessions) session.destroy();

    const error = await rejectionOf(pending);
    expect(error).toBeInstanceOf(SmppConnectionError);
    expect((error as SmppConnectionError).reason).toBe('connection-lost');
  });

  it('reconnects when enquire_link goes unanswered', async () => {
    const smsc = await startScriptedSmsc({ enquireLink: false, submit: true });
    cleanups.push(() => smsc.close());
    const { logger, lines } = captureLogger();
    const esme = client({ port: smsc.port, logger, enquireLinkMs: 50, responseTimeoutMs: 100, reconnectMinMs: 20 });
    await esme.connect();

    await vi.waitFor(() => expect(smsc.binds).toBeGreaterThanOrEqual(2), WAIT);
    expect(smsc.requests).toContain('enquire_link');
    expect(lines.some((line) => line['msg'] === 'SMPP enquire_link failed; reconnecting')).toBe(true);
  });

  it('responds to enquire_link and unbind', async () => {
    const smsc = await startScriptedSmsc({ enquireLink: true, submit: true });
    cleanups.push(() => smsc.close());
    const esme = client({ port: smsc.port, reconnectMinMs: 20 });
    await esme.connect();
    const session = smsc.sessions[0];
    if (session === undefined) throw new Error('no session');

    session.send(new smpp.PDU('enquire_link'));
    await vi.waitFor(() => expect(smsc.responses.map((pdu) => pdu.command)).toContain('enquire_link_resp'), WAIT);

    session.send(new smpp.PDU('unbind'));
    await vi.waitFor(() => expect(smsc.responses.map((pdu) => pdu.command)).toContain('unbind_resp'), WAIT);
    await vi.waitFor(() => expect(smsc.binds).toBe(2), WAIT);
    expect(smsc.responses.every((pdu) => pdu.command_status === 0)).toBe(true);
  });

  it('unbinds on close and stops', async () => {
    const smsc = await startScriptedSmsc({ enquireLink: true, submit: true });
    cleanups.push(() => smsc.close());
    const esme = client({ port: smsc.port, reconnectMinMs: 20 });
    await esme.connect();

    await esme.close();

    expect(smsc.requests).toEqual(['bind_transceiver', 'unbind']);
    expect(esme.state).toBe('closed');
  });
});

describe('parseSmppUrl', () => {
  it('decodes the credentials and defaults the port', () => {
    expect(parseSmppUrl('smpp://acme%20co:p%40ss%3Aword@smsc.example.net')).toEqual({
      host: 'smsc.example.net',
      port: 2775,
      systemId: 'acme co',
      password: 'p@ss:word',
    });
  });

  it('reads the port, an IPv6 host and system_type', () => {
    expect(parseSmppUrl('smpp://a:b@[::1]:3000?system_type=VMA')).toEqual({
      host: '::1',
      port: 3000,
      systemId: 'a',
      password: 'b',
      systemType: 'VMA',
    });
  });

  it('rejects other schemes without echoing the password', () => {
    expect(() => parseSmppUrl('http://a:hunter2@host')).toThrow(SmppUrlError);
    expect(() => parseSmppUrl('http://a:hunter2@host')).not.toThrow(/hunter2/);
  });

  it('rejects a URL without system_id', () => {
    expect(() => parseSmppUrl('smpp://host:2775')).toThrow(/system_id is missing/);
  });

  it('builds a client from a URL', async () => {
    const smsc = await startSandboxSmsc({ logger: silent, systemId: 'acme', password: 'p@ss' });
    const client = SmppClient.fromUrl(`smpp://acme:p%40ss@127.0.0.1:${smsc.port}`, { logger: silent });
    try {
      await client.connect();
      expect(client.state).toBe('bound');
    } finally {
      await client.close();
      await smsc.close();
    }
  });
});
