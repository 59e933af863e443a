import type { ChannelId, Condition, ReceiptState, SendOutcome } from '../routing/types.js';

/** Addresses of one person, merged from the send request over the stored profile. */
export interface Addresses {
  phoneNumber?: string;
  email?: string;
  fbMessengerId?: string;
  appUserId?: string;
  [key: string]: string | undefined;
}

/** Content of one message for one channel, merge fields already applied. */
export interface ChannelContent {
  body: string;
  title: string | null;
  /** `customBody.<channel>` of the request, or null. */
  custom: Record<string, unknown> | null;
  /** `channelOptions.<channel>` of the request, or null. */
  options: Record<string, unknown> | null;
}

export interface SendRequest {
  /** The space of the message; channels that keep per-space state (the app feed) file it there. */
  spaceId?: string;
  messageId: string;
  step: number;
  attempt: number;
  /** Stable for one attempt; passed to providers that deduplicate on it. */
  idempotencyKey: string;
  /** The address `resolveAddress` returned. */
  address: string;
  content: ChannelContent;
}

/** A delivery receipt as the provider reported it, before it is matched to an attempt. */
export interface ProviderReceipt {
  /**
   * The space the receipt belongs to, when the channel has one. Without it, and when the
   * channel serves several spaces (the sandbox peers), the attempt is looked up by provider
   * id in every space.
   */
  spaceId?: string;
  channel: ChannelId;
  providerMessageId: string;
  state: ReceiptState;
  errorCode: string | null;
  /** When the provider says the state was reached, epoch ms. */
  providerTimestamp: number | null;
}

/**
 * Receives receipts. The returned promise settles once the receipt is stored; channels whose
 * protocol acknowledges receipts (SMPP `deliver_sm_resp`) answer only after it, so a receipt
 * is never acknowledged before it is durable.
 */
export type ReceiptListener = (receipt: ProviderReceipt) => Promise<void> | void;

/** What the delivery layer knows about a person's own messages on a channel. */
export interface MessagingWindow {
  /** When the person last wrote to the business on this channel, epoch ms; null when never. */
  lastInboundAt: number | null;
  now: number;
}

/**
 * One channel as the delivery layer sees it. `send` never throws: every provider result,
 * thrown errors included, comes back classified as a `SendOutcome`.
 */
export interface Channel {
  readonly id: ChannelId;
  readonly defaultCondition: Condition;
  /** Conditions this channel can report; asking for another one is a validation error. */
  readonly supportedConditions: readonly Condition[];
  /** The channel's address among `addresses`, normalised; null when there is none. */
  resolveAddress(addresses: Addresses): string | null;
  send(request: SendRequest): Promise<SendOutcome>;
  /**
   * `ineligible` when the provider's rules forbid this content now, such as free-form WhatsApp
   * text outside the 24-hour customer-service window; null when the send may go ahead.
   * Channels without such rules leave it out.
   */
  checkEligibility?(content: ChannelContent, window: MessagingWindow): 'ineligible' | null;
  /**
   * Keys under which a provider message id is stored and looked up, so that receipts match
   * ids that differ in form (SMPP: hex in one PDU, decimal in the other). The first key is the
   * canonical one.
   */
  matchKeys(providerMessageId: string): string[];
  onReceipt(listener: ReceiptListener): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}
