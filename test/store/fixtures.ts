import { uuidv7 } from '../../src/ids.js';
import type { AttemptState, MessageState, StepState } from '../../src/routing/types.js';
import type { DecisionWrite, LoadedMessage, NewMessage, Store } from '../../src/store/types.js';

export const T0 = Date.UTC(2025, 0, 1);
export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
/** A time after every job the tests schedule. */
export const FAR_FUTURE = T0 + 1_000 * HOUR;

/** Build a message with an SMS step and an email step, created at `createdAt` (T0 by default). */
export function newMessage(overrides: Partial<NewMessage> = {}): NewMessage {
  const createdAt = overrides.createdAt ?? T0;
  return {
    id: uuidv7(createdAt),
    spaceId: 'default',
    profileId: null,
    to: { phoneNumber: '+12025550101', email: 'a@example.com' },
    content: { body: 'Your parcel arrives today', title: 'Delivery', customBody: { sms: { from: 'ACME' } }, channelOptions: {} },
    metadata: { orderId: '88121' },
    conversationId: null,
    steps: [
      { channel: 'sms', condition: 'delivered', fallbackAfterMs: 10 * MINUTE },
      { channel: 'email', condition: 'accepted', fallbackAfterMs: null },
    ],
    expiresAt: null,
    sendAt: null,
    createdAt,
    request: { body: 'Your parcel arrives today', rules: ['sms', 'email'] },
    ...overrides,
  };
}

export async function createOne(store: Store, overrides: Partial<NewMessage> = {}): Promise<NewMessage> {
  const message = newMessage(overrides);
  await store.createMessages([message]);
  return message;
}

export async function mustLoad(store: Store, spaceId: string, messageId: string): Promise<LoadedMessage> {
  const loaded = await store.loadMessage(spaceId, messageId);
  if (loaded === null) throw new Error(`Message ${messageId} not found in space ${spaceId}`);
  return loaded;
}

export function attempt(number: number, status: AttemptState['status'], at: number, providerMessageId: string | null = null): AttemptState {
  return { number, status, providerMessageId, errorCode: null, errorMessage: null, startedAt: at, updatedAt: at };
}

/** Copy `state` with step `index` changed. */
export function withStep(state: MessageState, index: number, change: Partial<StepState>): MessageState {
  return {
    ...state,
    steps: state.steps.map((step) => (step.index === index ? { ...step, ...change } : step)),
  };
}

/** Build the state of a message whose first step has attempt 1 accepted by the provider. */
export function firstStepAccepted(loaded: LoadedMessage, providerMessageId: string, at: number): MessageState {
  return withStep(loaded.state, 0, {
    status: 'waiting',
    startedAt: at,
    attempts: [attempt(1, 'accepted', at, providerMessageId)],
  });
}

/** Build a decision on `loaded` that writes `state` and nothing else. */
export function decision(loaded: LoadedMessage, state: MessageState, now: number, extra: Partial<DecisionWrite> = {}): DecisionWrite {
  return {
    spaceId: loaded.spaceId,
    messageId: loaded.id,
    version: loaded.version,
    state,
    events: [],
    jobs: [],
    now,
    ...extra,
  };
}

/** Accept attempt 1 of step 0 under `keys` (one list per part), as the delivery layer does after a send. */
export async function acceptFirstStep(store: Store, message: NewMessage, keys: string[][], at: number): Promise<LoadedMessage> {
  const loaded = await mustLoad(store, message.spaceId, message.id);
  const providerMessageId = keys[0]?.[0] ?? 'provider-id';
  await store.applyDecision(
    decision(loaded, firstStepAccepted(loaded, providerMessageId, at), at, {
      events: [{ type: 'attempt.accepted', step: 0, attempt: 1, data: { providerMessageId } }],
      providerKeys: { step: 0, attempt: 1, keys: { channel: 'sms', parts: keys } },
    }),
  );
  return mustLoad(store, message.spaceId, message.id);
}
