import { describe, expect, it } from 'vitest';
import {
  classifyGraphError,
  isConfigurationError,
  isOutsideWindowError,
  type MetaChannelId,
} from '../src/channels/meta/errors.js';
import {
  MESSENGER_GRAPH_ERRORS,
  SHARED_GRAPH_ERRORS,
  WHATSAPP_GRAPH_ERRORS,
} from '../src/channels/meta/graph-error-codes.js';

interface DocumentedCode {
  channel: MetaChannelId;
  code: number;
  subcode: number | null;
  kind: 'permanent' | 'transient';
  unreachable: boolean;
  /** Meaning of the code in Meta's error reference, in our words. */
  meaning: string;
}

function row(
  channel: MetaChannelId,
  code: number,
  subcode: number | null,
  kind: 'permanent' | 'transient',
  unreachable: boolean,
  meaning: string,
): DocumentedCode {
  return { channel, code, subcode, kind, unreachable, meaning };
}

/**
 * Codes from the Graph API error guide, the WhatsApp Cloud API error code reference and the
 * Messenger Platform error code reference, with the class Cascade gives each.
 */
const DOCUMENTED: DocumentedCode[] = [
  // Graph API codes, the same for both channels.
  row('whatsApp', 1, null, 'transient', false, 'unknown error, possibly a temporary outage'),
  row('whatsApp', 2, null, 'transient', false, 'service temporarily down or overloaded'),
  row('whatsApp', 3, null, 'permanent', false, 'the app lacks a capability or permission for the method'),
  row('whatsApp', 4, null, 'transient', false, 'the app reached its API call rate limit'),
  row('whatsApp', 10, null, 'permanent', false, 'permission not granted or removed'),
  row('fbMessenger', 17, null, 'transient', false, 'the user reached its API call rate limit'),
  row('fbMessenger', 32, null, 'transient', false, 'the Page reached its request limit'),
  row('whatsApp', 100, null, 'permanent', false, 'unsupported or misspelled parameter'),
  row('whatsApp', 190, null, 'permanent', false, 'access token expired or invalid'),
  row('fbMessenger', 341, null, 'transient', false, 'the application reached a limit'),
  row('whatsApp', 368, null, 'permanent', false, 'account temporarily blocked for a policy violation'),
  row('fbMessenger', 613, null, 'transient', false, 'calls to this API exceeded the rate limit'),
  // WhatsApp Cloud API.
  row('whatsApp', 0, null, 'permanent', false, 'the app user could not be authenticated'),
  row('whatsApp', 33, null, 'permanent', false, 'the business phone number was deleted'),
  row('whatsApp', 80007, null, 'transient', false, 'the WhatsApp Business Account reached its rate limit'),
  row('whatsApp', 130429, null, 'transient', false, 'Cloud API message throughput reached'),
  row('whatsApp', 130472, null, 'permanent', false, "the user's number is part of a Meta experiment"),
  row('whatsApp', 131000, null, 'transient', false, 'something went wrong, unknown error'),
  row('whatsApp', 131005, null, 'permanent', false, 'access denied, permission missing'),
  row('whatsApp', 131008, null, 'permanent', false, 'a required parameter is missing'),
  row('whatsApp', 131009, null, 'permanent', false, 'a parameter value is not valid'),
  row('whatsApp', 131016, null, 'transient', false, 'a service is temporarily unavailable'),
  row('whatsApp', 131021, null, 'permanent', false, 'sender and recipient are the same number'),
  row('whatsApp', 131026, null, 'permanent', true, 'undeliverable: no WhatsApp account, terms not accepted or outdated app'),
  row('whatsApp', 131030, null, 'permanent', false, 'recipient not in the allowed list of a test number'),
  row('whatsApp', 131031, null, 'permanent', false, 'business account locked'),
  row('whatsApp', 131042, null, 'permanent', false, 'payment method problem on the business account'),
  row('whatsApp', 131045, null, 'permanent', false, 'phone number registration error, incorrect certificate'),
  row('whatsApp', 131047, null, 'permanent', false, 're-engagement: over 24 hours since the customer last replied'),
  row('whatsApp', 131048, null, 'transient', false, 'spam rate limit hit'),
  row('whatsApp', 131049, null, 'permanent', false, 'Meta withheld the message for ecosystem engagement'),
  row('whatsApp', 131051, null, 'permanent', false, 'unsupported message type'),
  row('whatsApp', 131053, null, 'permanent', false, 'media of the message could not be uploaded'),
  row('whatsApp', 131056, null, 'transient', false, 'pair rate limit: too many messages to one recipient'),
  row('whatsApp', 131057, null, 'transient', false, 'business account in maintenance mode'),
  row('whatsApp', 132000, null, 'permanent', false, 'template parameter count mismatch'),
  row('whatsApp', 132001, null, 'permanent', false, 'template does not exist in the language or is not approved'),
  row('whatsApp', 132005, null, 'permanent', false, 'template text too long after substitution'),
  row('whatsApp', 132007, null, 'permanent', false, 'template content violates a policy'),
  row('whatsApp', 132012, null, 'permanent', false, 'template parameter format mismatch'),
  row('whatsApp', 132015, null, 'permanent', false, 'template paused for low quality'),
  row('whatsApp', 132016, null, 'permanent', false, 'template disabled after repeated pauses'),
  row('whatsApp', 133010, null, 'permanent', false, 'business phone number not registered'),
  row('whatsApp', 135000, null, 'permanent', false, 'generic user error in the parameters'),
  // Messenger Platform.
  row('fbMessenger', 10, 2018278, 'permanent', false, 'message sent outside the allowed window'),
  row('fbMessenger', 100, 2018001, 'permanent', true, 'no matching user found'),
  row('fbMessenger', 200, 1545041, 'permanent', true, "this person isn't available right now"),
  row('fbMessenger', 551, null, 'permanent', true, "this person isn't available right now"),
  row('fbMessenger', 551, 1545041, 'permanent', true, "this person isn't available right now, with subcode"),
  row('fbMessenger', 1200, null, 'transient', false, 'temporary send message failure'),
];

function graphBody(code: number, subcode: number | null, message = 'Provider message'): unknown {
  return {
    error: {
      message,
      type: 'OAuthException',
      code,
      ...(subcode === null ? {} : { error_subcode: subcode }),
      fbtrace_id: 'TRACE0000001',
    },
  };
}

function outcomeCode(code: number, subcode: number | null): string {
  const key = subcode === null ? `${code}` : `${code}/${subcode}`;
  const isPair = [SHARED_GRAPH_ERRORS, WHATSAPP_GRAPH_ERRORS, MESSENGER_GRAPH_ERRORS].some((table) => table.has(key));
  return isPair && subcode !== null ? `graph-${code}-${subcode}` : `graph-${code}`;
}

describe('classifyGraphError', () => {
  it.each(DOCUMENTED)('classifies $channel $code/$subcode ($meaning)', ({ channel, code, subcode, kind, unreachable }) => {
    // The code decides, whatever the HTTP status that came with it.
    for (const httpStatus of [400, 403, 500, 503]) {
      const result = classifyGraphError(httpStatus, graphBody(code, subcode), channel);

      expect(result.kind).toBe(kind);
      expect(result.code).toBe(outcomeCode(code, subcode));
      expect(result.addressUnreachable).toBe(unreachable);
      expect(result.message).toContain(`Graph API error ${code}`);
    }
  });

  it('cites every code the tables name', () => {
    const cited = new Set(DOCUMENTED.map(({ code, subcode }) => (subcode === null ? `${code}` : `${code}/${subcode}`)));

    for (const table of [SHARED_GRAPH_ERRORS, WHATSAPP_GRAPH_ERRORS, MESSENGER_GRAPH_ERRORS]) {
      for (const key of table.keys()) {
        expect(cited, `code ${key} has no row in DOCUMENTED`).toContain(key);
      }
    }
  });

  it('describes a known code in its own words', () => {
    const result = classifyGraphError(400, graphBody(131026, 2655012, 'Message Undeliverable.'), 'whatsApp');

    expect(result.message).toBe(
      'Message undeliverable because the number is not on WhatsApp, or its user has not accepted the current terms or runs an outdated app (Graph API error 131026, subcode 2655012)',
    );
  });

  it('names the configuration fix for an expired token', () => {
    const result = classifyGraphError(401, graphBody(190, 463), 'fbMessenger');

    expect(result).toEqual({
      kind: 'permanent',
      code: 'graph-190',
      message: 'Access token expired or invalid, so a new one must be set in the channel settings (Graph API error 190, subcode 463)',
      addressUnreachable: false,
    });
  });

  it('treats codes 200 to 299 as missing permissions', () => {
    for (const code of [200, 230, 299]) {
      const result = classifyGraphError(403, graphBody(code, null), 'fbMessenger');

      expect(result.kind).toBe('permanent');
      expect(result.code).toBe(`graph-${code}`);
      expect(result.message).toMatch(/^A permission the call needs is missing/);
    }
  });

  it('reads a subcode only where it changes the meaning', () => {
    const window = classifyGraphError(400, graphBody(10, 2018278), 'fbMessenger');
    const otherPermission = classifyGraphError(403, graphBody(10, 2018336), 'fbMessenger');

    expect(window.code).toBe('graph-10-2018278');
    expect(otherPermission.code).toBe('graph-10');
    expect(otherPermission.message).toContain('subcode 2018336');
  });

  it('uses the table of the given channel', () => {
    const messengerCodeOnWhatsApp = classifyGraphError(400, graphBody(551, null), 'whatsApp');
    const whatsAppCodeOnMessenger = classifyGraphError(400, graphBody(131026, null), 'fbMessenger');

    expect(messengerCodeOnWhatsApp).toMatchObject({ kind: 'permanent', code: 'graph-551', addressUnreachable: false });
    expect(whatsAppCodeOnMessenger).toMatchObject({ kind: 'permanent', code: 'graph-131026', addressUnreachable: false });
  });

  it.each([
    [400, 'permanent'],
    [403, 'permanent'],
    [404, 'permanent'],
    [408, 'transient'],
    [409, 'transient'],
    [429, 'transient'],
    [500, 'transient'],
    [503, 'transient'],
    [200, 'transient'],
  ] as const)('classifies an unlisted code with HTTP %i as %s', (httpStatus, kind) => {
    const result = classifyGraphError(httpStatus, graphBody(999_001, null, 'Something new'), 'whatsApp');

    expect(result.kind).toBe(kind);
    expect(result.code).toBe('graph-999001');
    expect(result.message).toBe(`Graph API error 999001 (HTTP ${httpStatus}): Something new`);
    expect(result.addressUnreachable).toBe(false);
  });

  it('prefers error_data.details for an unlisted code', () => {
    const body = {
      error: { message: '(#999002) Short', code: 999002, error_data: { messaging_product: 'whatsapp', details: 'Longer detail' } },
    };

    expect(classifyGraphError(400, body, 'whatsApp').message).toBe('Graph API error 999002 (HTTP 400): Longer detail');
  });

  it('reads the string error_data of older Messenger responses', () => {
    const body = { error: { message: 'Invalid parameter', code: 999003, error_data: 'No matching user found.' } };

    expect(classifyGraphError(400, body, 'fbMessenger').message).toBe(
      'Graph API error 999003 (HTTP 400): No matching user found.',
    );
  });

  it('reports no response as a network error', () => {
    expect(classifyGraphError(null, undefined, 'whatsApp')).toEqual({
      kind: 'transient',
      code: 'network-error',
      message: 'No response from the Graph API (network error or timeout)',
      addressUnreachable: false,
    });
  });

  it.each([
    [502, '<html>Bad Gateway</html>', 'transient'],
    [503, null, 'transient'],
    [400, { message: 'no error object' }, 'permanent'],
    [400, { error: { message: 'code is missing' } }, 'permanent'],
    [429, '', 'transient'],
  ] as const)('falls back to HTTP %i without a Graph error', (httpStatus, body, kind) => {
    const result = classifyGraphError(httpStatus, body, 'fbMessenger');

    expect(result).toEqual({
      kind,
      code: `http-${httpStatus}`,
      message: `HTTP ${httpStatus} from the Graph API without a Graph error in the body`,
      addressUnreachable: false,
    });
  });

  it('parses a body given as JSON text', () => {
    const result = classifyGraphError(400, JSON.stringify(graphBody(131047, null)), 'whatsApp');

    expect(result.code).toBe('graph-131047');
  });

  it('accepts codes given as digit strings', () => {
    const result = classifyGraphError(400, { error: { code: '131056', error_subcode: '2494071' } }, 'whatsApp');

    expect(result).toMatchObject({ kind: 'transient', code: 'graph-131056' });
    expect(result.message).toContain('subcode 2494071');
  });

  it('keeps access tokens out of messages', () => {
    const token = `EAAT${'x7Q2'.repeat(40)}`;
    const known = classifyGraphError(400, graphBody(190, null, `Malformed access token ${token}`), 'whatsApp');
    const unknown = classifyGraphError(400, graphBody(999_004, null, `Token ${token} is not valid`), 'whatsApp');

    expect(known.message).not.toContain('EAAT');
    expect(unknown.message).not.toContain('EAAT');
    expect(unknown.message).toBe('Graph API error 999004 (HTTP 400): Token [redacted] is not valid');
  });

  it('shortens long provider text to one line', () => {
    const text = `first line\n${'word '.repeat(200)}`;

    const result = classifyGraphError(400, graphBody(999_005, null, text), 'whatsApp');

    expect(result.message).not.toContain('\n');
    expect(result.message.length).toBeLessThan(360);
    expect(result.message.endsWith('…')).toBe(true);
  });
});

describe('isOutsideWindowError', () => {
  it.each(['graph-131047', 'graph-10-2018278'])('is true for %s', (code) => {
    expect(isOutsideWindowError(code)).toBe(true);
  });

  it.each(['graph-10', 'graph-131026', 'graph-190', 'http-400', 'network-error'])('is false for %s', (code) => {
    expect(isOutsideWindowError(code)).toBe(false);
  });

  it('matches the codes classifyGraphError returns', () => {
    const whatsApp = classifyGraphError(400, graphBody(131047, 2018278), 'whatsApp');
    const messenger = classifyGraphError(400, graphBody(10, 2018278), 'fbMessenger');

    expect(isOutsideWindowError(whatsApp.code)).toBe(true);
    expect(isOutsideWindowError(messenger.code)).toBe(true);
  });
});

describe('isConfigurationError', () => {
  it.each([
    'graph-0',
    'graph-3',
    'graph-10',
    'graph-190',
    'graph-200',
    'graph-299',
    'graph-368',
    'graph-131031',
    'graph-133010',
  ])('is true for %s', (code) => {
    expect(isConfigurationError(code)).toBe(true);
  });

  it.each(['graph-131026', 'graph-10-2018278', 'graph-200-1545041', 'graph-131056', 'http-401', 'network-error'])(
    'is false for %s',
    (code) => {
      expect(isConfigurationError(code)).toBe(false);
    },
  );
});
