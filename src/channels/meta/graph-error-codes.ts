/**
 * Graph API error codes that Cascade classifies by name, with the meaning Meta documents for
 * each. Sources: the Graph API "Handling Errors" guide (shared codes), the WhatsApp Cloud API
 * "Error codes" reference, and the Messenger Platform "Common Error Codes" and Send API error
 * references, in their 2026 versions.
 *
 * Keys are `"<code>"`, or `"<code>/<error_subcode>"` where the subcode changes the meaning.
 * A code missing here is classified by its HTTP status (see `classifyGraphError`), which gives
 * the right class for most of Meta's 4xx codes: their requests fail the same way every time.
 */

export type GraphErrorKind = 'permanent' | 'transient';

export interface GraphErrorEntry {
  kind: GraphErrorKind;
  /** Short account of the error, shown to operators as the attempt's error message. */
  description: string;
  /** Flag for errors that mean this person cannot be reached on the channel. */
  addressUnreachable?: true;
  /**
   * Flag for errors that fail every message on the channel until someone changes its settings or
   * the Meta account: the access token, permissions, the business number or an account restriction.
   */
  configuration?: true;
  /**
   * Flag for errors that mean the person last wrote too long ago for this kind of message. Only a
   * template (WhatsApp) or a message tag (Messenger) can reach them.
   */
  outsideWindow?: true;
}

/** Codes common to every Graph API product. */
export const SHARED_GRAPH_ERRORS: ReadonlyMap<string, GraphErrorEntry> = new Map<string, GraphErrorEntry>([
  ['1', { kind: 'transient', description: 'Unknown Graph API error, possibly a temporary outage' }],
  ['2', { kind: 'transient', description: 'Graph API service temporarily unavailable' }],
  [
    '3',
    { kind: 'permanent', configuration: true, description: 'The app lacks the capability or permission for this call' },
  ],
  ['4', { kind: 'transient', description: 'Application request limit reached' }],
  [
    '10',
    {
      kind: 'permanent',
      configuration: true,
      description: 'Permission denied because it was never granted or has been removed',
    },
  ],
  ['17', { kind: 'transient', description: 'User request limit reached' }],
  ['32', { kind: 'transient', description: 'Page request limit reached' }],
  ['100', { kind: 'permanent', description: 'Invalid parameter in the request' }],
  [
    '190',
    {
      kind: 'permanent',
      configuration: true,
      description: 'Access token expired or invalid, so a new one must be set in the channel settings',
    },
  ],
  ['341', { kind: 'transient', description: 'Application limit reached' }],
  // The Graph API guide recommends waiting and retrying, but a policy block lasts days and the
  // retry budget of a step lasts minutes, so routing moves on to the next step at once.
  [
    '368',
    {
      kind: 'permanent',
      configuration: true,
      description: 'Temporarily blocked for a policy violation, which must be reviewed in Meta Business Suite',
    },
  ],
  ['613', { kind: 'transient', description: 'Calls to this API exceeded the rate limit' }],
]);

/** WhatsApp Cloud API codes. */
export const WHATSAPP_GRAPH_ERRORS: ReadonlyMap<string, GraphErrorEntry> = new Map<string, GraphErrorEntry>([
  [
    '0',
    {
      kind: 'permanent',
      configuration: true,
      description: 'Could not authenticate the app user, probably because the access token expired or was revoked',
    },
  ],
  ['33', { kind: 'permanent', configuration: true, description: 'The business phone number has been deleted' }],
  ['80007', { kind: 'transient', description: 'WhatsApp Business Account rate limit reached' }],
  ['130429', { kind: 'transient', description: 'Cloud API message throughput limit reached' }],
  [
    '130472',
    { kind: 'permanent', description: "Not sent because the recipient's number is part of a Meta experiment" },
  ],
  ['131000', { kind: 'transient', description: 'Message failed to send because of an unknown error' }],
  [
    '131005',
    { kind: 'permanent', configuration: true, description: 'Access denied because the permission was never granted or has been removed' },
  ],
  ['131008', { kind: 'permanent', description: 'A required parameter is missing' }],
  ['131009', { kind: 'permanent', description: 'A parameter value is invalid' }],
  ['131016', { kind: 'transient', description: 'A WhatsApp service is temporarily unavailable' }],
  ['131021', { kind: 'permanent', description: 'The recipient is the sending business number itself' }],
  [
    '131026',
    {
      kind: 'permanent',
      addressUnreachable: true,
      description:
        'Message undeliverable because the number is not on WhatsApp, or its user has not accepted the current terms or runs an outdated app',
    },
  ],
  ['131030', { kind: 'permanent', description: 'The recipient is not in the allowed list of this test number' }],
  [
    '131031',
    {
      kind: 'permanent',
      configuration: true,
      description: 'Business account locked for a policy violation or a failed check such as a wrong two-step PIN',
    },
  ],
  [
    '131042',
    { kind: 'permanent', configuration: true, description: 'Payment method problem on the WhatsApp Business Account' },
  ],
  [
    '131045',
    { kind: 'permanent', configuration: true, description: 'Business phone number registration error (incorrect certificate)' },
  ],
  [
    '131047',
    {
      kind: 'permanent',
      outsideWindow: true,
      description: 'More than 24 hours since the recipient last wrote, so only a template message can be sent',
    },
  ],
  [
    '131048',
    { kind: 'transient', description: 'Spam rate limit hit because too many messages from this number were blocked or flagged' },
  ],
  [
    '131049',
    { kind: 'permanent', description: 'Meta chose not to deliver this message to keep ecosystem engagement healthy' },
  ],
  ['131051', { kind: 'permanent', description: 'Unsupported message type' }],
  ['131053', { kind: 'permanent', description: 'The media of the message could not be uploaded' }],
  [
    '131056',
    { kind: 'transient', description: 'Too many messages to this recipient in a short time (pair rate limit)' },
  ],
  ['131057', { kind: 'transient', description: 'The business account is in maintenance mode' }],
  [
    '132000',
    { kind: 'permanent', description: 'The number of template parameters does not match the template' },
  ],
  [
    '132001',
    { kind: 'permanent', description: 'The template does not exist in this language or is not approved' },
  ],
  ['132005', { kind: 'permanent', description: 'The template text is too long once its parameters are filled in' }],
  ['132007', { kind: 'permanent', description: 'The template content violates a WhatsApp policy' }],
  ['132012', { kind: 'permanent', description: 'Template parameter values are formatted incorrectly' }],
  ['132015', { kind: 'permanent', description: 'The template is paused because of low quality' }],
  ['132016', { kind: 'permanent', description: 'The template is disabled after being paused too often' }],
  [
    '133010',
    {
      kind: 'permanent',
      configuration: true,
      description: 'The business phone number is not registered on the WhatsApp Business Platform',
    },
  ],
  ['135000', { kind: 'permanent', description: 'Generic user error in the request parameters' }],
]);

/**
 * Messenger Platform (Send API) codes and code-subcode pairs.
 *
 * NOTE: the current Meta page lists 551 and 1200 with their meanings, but the subcodes here
 * (2018278, 2018001, 1545041) were checked only against the older Send API reference and
 * integrations that handle them. Other subcodes of 10, 100 and 200 fall back to the shared entry.
 */
export const MESSENGER_GRAPH_ERRORS: ReadonlyMap<string, GraphErrorEntry> = new Map<string, GraphErrorEntry>([
  [
    '10/2018278',
    {
      kind: 'permanent',
      outsideWindow: true,
      description: 'Sent outside the allowed messaging window because the person has not written recently enough',
    },
  ],
  [
    '100/2018001',
    { kind: 'permanent', addressUnreachable: true, description: 'No matching user found for this page-scoped id' },
  ],
  [
    '200/1545041',
    { kind: 'permanent', addressUnreachable: true, description: "This person isn't available right now" },
  ],
  [
    '551',
    { kind: 'permanent', addressUnreachable: true, description: "This person isn't available right now" },
  ],
  ['1200', { kind: 'transient', description: 'Temporary send message failure' }],
]);
