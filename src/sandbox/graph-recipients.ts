/** Handling of a WhatsApp send to one of the sandbox's published test recipients. */
export type WhatsAppBehaviour =
  | { kind: 'deliver'; read: boolean }
  | { kind: 'fail-after-accept'; errorCode: number; title: string; details: string }
  | { kind: 'throttle-then-deliver'; throttledSends: number };

/** Handling of a Messenger send to one of the sandbox's published test recipients. */
export type MessengerBehaviour = { kind: 'deliver'; read: boolean } | { kind: 'unavailable' };

/** WhatsApp test recipients, by E.164 digits without `+`. */
const WHATSAPP_RECIPIENTS: ReadonlyMap<string, WhatsAppBehaviour> = new Map<string, WhatsAppBehaviour>([
  ['12025550111', { kind: 'deliver', read: true }],
  ['12025550112', { kind: 'fail-after-accept', errorCode: 131026, title: 'Message undeliverable', details: 'Message Undeliverable.' }],
  ['12025550113', { kind: 'throttle-then-deliver', throttledSends: 2 }],
]);
const WHATSAPP_DEFAULT: WhatsAppBehaviour = { kind: 'deliver', read: false };

/** Messenger test recipients, by page-scoped id. */
const MESSENGER_RECIPIENTS: ReadonlyMap<string, MessengerBehaviour> = new Map<string, MessengerBehaviour>([
  ['psid-delivered', { kind: 'deliver', read: true }],
  ['psid-unavailable', { kind: 'unavailable' }],
]);
const MESSENGER_DEFAULT: MessengerBehaviour = { kind: 'deliver', read: false };

/** People whose last inbound time is kept; the oldest entry is dropped past this count. */
const MAX_INBOUND_ENTRIES = 100_000;

/** The sandbox's test recipients, with the throttling count per number and the inbound times that open WhatsApp's window. */
export class GraphTestRecipients {
  readonly #throttleCounts = new Map<string, number>();
  readonly #lastInbound = new Map<string, number>();

  whatsApp(digits: string): WhatsAppBehaviour {
    return WHATSAPP_RECIPIENTS.get(digits) ?? WHATSAPP_DEFAULT;
  }

  messenger(psid: string): MessengerBehaviour {
    return MESSENGER_RECIPIENTS.get(psid) ?? MESSENGER_DEFAULT;
  }

  /**
   * Returns true when this send must be rate limited. A throttled number is rejected for its
   * first `throttledSends` sends; the count starts again after each accepted send.
   */
  throttle(digits: string, behaviour: WhatsAppBehaviour): boolean {
    if (behaviour.kind !== 'throttle-then-deliver') {
      return false;
    }
    const throttled = this.#throttleCounts.get(digits) ?? 0;
    if (throttled < behaviour.throttledSends) {
      this.#throttleCounts.set(digits, throttled + 1);
      return true;
    }
    this.#throttleCounts.delete(digits);
    return false;
  }

  /** Stores when a person last wrote, by channel and WhatsApp digits or page-scoped id. */
  recordInbound(channel: 'whatsApp' | 'fbMessenger', from: string, at: number): void {
    const key = `${channel}:${from}`;
    this.#lastInbound.delete(key);
    this.#lastInbound.set(key, at);
    if (this.#lastInbound.size > MAX_INBOUND_ENTRIES) {
      const oldest = this.#lastInbound.keys().next();
      if (oldest.done !== true) {
        this.#lastInbound.delete(oldest.value);
      }
    }
  }

  lastInboundAt(channel: 'whatsApp' | 'fbMessenger', from: string): number | null {
    return this.#lastInbound.get(`${channel}:${from}`) ?? null;
  }
}
