import { validateEmailContent } from '../channels/email/render.js';
import { CHANNEL_TRAITS } from '../channels/catalog.js';
import { renderMessenger } from '../channels/messenger/render.js';
import type { Addresses, ChannelContent } from '../channels/types.js';
import { validateWhatsAppContent } from '../channels/whatsapp/render.js';
import type { ChannelId, StepPlan } from '../routing/types.js';
import type { NewMessage, RuleSet } from '../store/types.js';
import { normalizeAddresses } from './addresses.js';
import { formatDuration, MAX_FALLBACK_AFTER_MS, parseDuration } from './duration.js';
import { escapePointerSegment, type FieldError } from './schema-errors.js';
import { SEND_LIMITS, SendRequestSchema, type Rule, type SendRequest } from './schemas/send-request.js';
import { compileValidator } from './validator.js';

export interface SendRequestContext {
  spaceId: string;
  /** Epoch milliseconds. */
  now: number;
  /** ISO 3166 country for phone numbers in national format; null rejects them. */
  defaultRegion: string | null;
  newId(): string;
  /** The stored rule sets the request may use; absent when the space has none. */
  ruleSets?: RuleSetCatalog;
}

/** Stored rule sets of a space, loaded before its send requests are checked. */
export interface RuleSetCatalog {
  byName: ReadonlyMap<string, RuleSet>;
  /** Used by requests that give neither `rules` nor `ruleSet`. */
  defaultRuleSet: RuleSet | null;
}

export type SendRequestResult = { ok: true; message: NewMessage } | { ok: false; errors: FieldError[] };

const validateSendRequestSchema = compileValidator(SendRequestSchema);

/**
 * Checks a send request body against the schema and then for meaning, and builds the message
 * to store. Every problem found is reported, each under its JSON pointer. Schema errors are
 * reported alone, because the meaning of a malformed body cannot be judged.
 */
export function parseSendRequest(body: unknown, ctx: SendRequestContext): SendRequestResult {
  const checked = validateSendRequestSchema(body);
  if (!checked.ok) return checked;
  return checkSendRequest(checked.value, ctx);
}

/**
 * Checks what a schema cannot express, on a body that already matches `SendRequestSchema`:
 * routes and their conditions, addresses, times, sizes and conflicting fields.
 *
 * A channel may appear only once in `rules`: a second step on the same channel would send
 * the same content to the same address again, which retries already cover. A custom body or
 * options for a channel that is not in `rules` are kept without complaint.
 *
 * The route comes from `rules`, from the stored rule set named by `ruleSet`, or else from the
 * space's default rule set. The message keeps the steps resolved now, so a later change of the
 * rule set does not change it. When the default rule set was used, the stored request names it
 * in `ruleSet`.
 */
export function checkSendRequest(request: SendRequest, ctx: SendRequestContext): SendRequestResult {
  const errors: FieldError[] = [];

  const route = planRoute(request, ctx.ruleSets, errors);
  const steps = route.steps;
  const to = checkRecipient(request, steps, ctx.defaultRegion, errors);
  checkContent(request, steps, errors);
  const times = checkTimes(request, ctx.now, errors);
  checkMetadata(request, errors);

  if (errors.length > 0) return { ok: false, errors };

  const message: NewMessage = {
    id: ctx.newId(),
    spaceId: ctx.spaceId,
    profileId: request.to.profileId ?? null,
    to,
    content: {
      body: request.body,
      title: request.title ?? null,
      customBody: (request.customBody ?? {}) as Record<string, Record<string, unknown>>,
      channelOptions: (request.channelOptions ?? {}) as Record<string, Record<string, unknown>>,
    },
    metadata: request.metadata ?? null,
    conversationId: request.conversationId ?? null,
    steps,
    expiresAt: times.expiresAt,
    sendAt: times.sendAt,
    createdAt: ctx.now,
    request: route.ruleSet !== null && request.ruleSet === undefined ? { ...request, ruleSet: route.ruleSet } : request,
  };
  return { ok: true, message };
}

function planRoute(request: SendRequest, catalog: RuleSetCatalog | undefined, errors: FieldError[]): { steps: StepPlan[]; ruleSet: string | null } {
  if (request.ruleSet !== undefined && request.rules !== undefined) {
    errors.push({ pointer: '/ruleSet', detail: 'cannot be combined with rules, so give only one of them' });
    return { steps: [], ruleSet: null };
  }
  if (request.rules !== undefined) return { steps: planRules(request.rules, '/rules', errors), ruleSet: null };

  if (request.ruleSet !== undefined) {
    const stored = catalog?.byName.get(request.ruleSet);
    if (stored === undefined) {
      const detail = `names no stored rule set, so create it with PUT /v1/rulesets/${request.ruleSet} or give the channels in rules`;
      errors.push({ pointer: '/ruleSet', detail });
      return { steps: [], ruleSet: null };
    }
    return { steps: planStoredRules(stored, '/ruleSet', errors), ruleSet: stored.name };
  }

  const fallback = catalog?.defaultRuleSet ?? null;
  if (fallback === null) {
    const detail =
      'is required because the space has no default rule set: give the channels to try in order, such as ["sms", "email"], or name a stored rule set in ruleSet';
    errors.push({ pointer: '/rules', detail });
    return { steps: [], ruleSet: null };
  }
  return { steps: planStoredRules(fallback, '/rules', errors), ruleSet: fallback.name };
}

/**
 * Plans the steps of a stored rule set. Its rules passed these checks when they were stored, so
 * an error here means that the checks changed since. Each error is reported at `pointer` and
 * names the rule set's own pointer.
 */
function planStoredRules(ruleSet: RuleSet, pointer: string, errors: FieldError[]): StepPlan[] {
  const ruleErrors: FieldError[] = [];
  const steps = planRules(ruleSet.rules, '/rules', ruleErrors);
  for (const error of ruleErrors) {
    errors.push({
      pointer,
      detail: `uses rule set ${ruleSet.name}, whose ${error.pointer.slice(1)} ${error.detail}, so replace that rule set with PUT /v1/rulesets/${ruleSet.name}`,
    });
  }
  return steps;
}

/**
 * Checks a route given as rules, in a send request or a stored rule set, and plans its steps.
 * Each error's pointer starts with `pointer`, the location of the rules array.
 */
export function planRules(rules: readonly Rule[], pointer: string, errors: FieldError[]): StepPlan[] {
  const steps: StepPlan[] = [];
  const firstIndex = new Map<ChannelId, number>();
  rules.forEach((rule, index) => {
    const step = planStep(rule, `${pointer}/${index}`, errors);
    const channel = typeof rule === 'string' ? rule : rule.channel;
    const earlier = firstIndex.get(channel);
    if (earlier !== undefined) {
      const at = typeof rule === 'string' ? `${pointer}/${index}` : `${pointer}/${index}/channel`;
      errors.push({ pointer: at, detail: `repeats ${channel} from ${pointer}/${earlier}, but each channel may appear only once` });
    } else {
      firstIndex.set(channel, index);
    }
    if (step) steps.push(step);
  });
  return steps;
}

function planStep(rule: Rule, pointer: string, errors: FieldError[]): StepPlan | null {
  if (typeof rule === 'string') {
    return { channel: rule, condition: CHANNEL_TRAITS[rule].defaultCondition, fallbackAfterMs: null };
  }

  const traits = CHANNEL_TRAITS[rule.channel];
  let ok = true;
  const condition = rule.fallbackUnless ?? traits.defaultCondition;
  if (!traits.supportedConditions.includes(condition)) {
    errors.push({
      pointer: `${pointer}/fallbackUnless`,
      detail: `${condition} is not available on ${rule.channel}, which supports only ${traits.supportedConditions.join(', ')}`,
    });
    ok = false;
  }

  let fallbackAfterMs: number | null = null;
  if (rule.fallbackAfter !== undefined) {
    const parsed = parseDuration(rule.fallbackAfter);
    if (!parsed.ok) {
      errors.push({ pointer: `${pointer}/fallbackAfter`, detail: parsed.reason });
      ok = false;
    } else if (parsed.ms <= 0) {
      errors.push({ pointer: `${pointer}/fallbackAfter`, detail: 'must be longer than zero' });
      ok = false;
    } else if (parsed.ms > MAX_FALLBACK_AFTER_MS) {
      errors.push({ pointer: `${pointer}/fallbackAfter`, detail: `must be at most ${formatDuration(MAX_FALLBACK_AFTER_MS)} (30 days)` });
      ok = false;
    } else {
      fallbackAfterMs = parsed.ms;
    }
  }
  return ok ? { channel: rule.channel, condition, fallbackAfterMs } : null;
}

/** Normalises `to` and checks that the message can reach someone. */
function checkRecipient(request: SendRequest, steps: StepPlan[], defaultRegion: string | null, errors: FieldError[]): Addresses {
  const { profileId, ...given } = request.to as Record<string, string>;
  const { addresses, errors: addressErrors } = normalizeAddresses(given, '/to', defaultRegion);
  errors.push(...addressErrors);

  // Without a profile to look addresses up in, at least one step needs its address in `to`.
  const reachable = steps.some((step) => given[CHANNEL_TRAITS[step.channel].addressKey] !== undefined);
  if (profileId === undefined && steps.length > 0 && !reachable) {
    const needed = [...new Set(steps.map((step) => `${step.channel} needs ${CHANNEL_TRAITS[step.channel].addressKey}`))];
    errors.push({ pointer: '/to', detail: `has no profileId and no address for any channel in rules (${needed.join(', ')})` });
  }
  return addresses;
}

function checkContent(request: SendRequest, steps: StepPlan[], errors: FieldError[]): void {
  const customBody: Record<string, unknown> = request.customBody ?? {};
  const channelOptions: Record<string, unknown> = request.channelOptions ?? {};

  for (const channel of Object.keys(channelOptions)) {
    if (customBody[channel] !== undefined) {
      errors.push({
        pointer: `/channelOptions/${escapePointerSegment(channel)}`,
        detail: `cannot be combined with customBody.${channel}, so give either a custom body or options for ${channel}`,
      });
    }
  }

  const messenger = request.channelOptions?.fbMessenger;
  if (messenger?.messagingType === 'MESSAGE_TAG' && messenger.messageTag === undefined) {
    errors.push({ pointer: '/channelOptions/fbMessenger/messageTag', detail: 'is required when messagingType is MESSAGE_TAG' });
  }
  if (messenger?.messageTag !== undefined && messenger.messagingType !== undefined && messenger.messagingType !== 'MESSAGE_TAG') {
    errors.push({ pointer: '/channelOptions/fbMessenger/messagingType', detail: 'must be MESSAGE_TAG when messageTag is set' });
  }

  const usesEmail = steps.some((step) => step.channel === 'email') || customBody.email !== undefined || channelOptions.email !== undefined;
  if (usesEmail) {
    const emailErrors = validateEmailContent({
      body: request.body,
      title: request.title ?? null,
      custom: request.customBody?.email ?? null,
      options: request.channelOptions?.email ?? null,
    });
    for (const error of emailErrors) errors.push({ pointer: error.pointer, detail: error.message });
  }

  // WhatsApp and Messenger are checked only when they can send (in rules, or with a custom body),
  // because the schema and the checks above already cover their options. Pointers reported above
  // are not repeated.
  const reported = new Set(errors.map((error) => error.pointer));
  const channelErrors: Array<{ pointer: string; message: string }> = [];
  if (steps.some((step) => step.channel === 'whatsApp') || customBody.whatsApp !== undefined) {
    channelErrors.push(...validateWhatsAppContent(contentFor(request, 'whatsApp')));
  }
  if (steps.some((step) => step.channel === 'fbMessenger') || customBody.fbMessenger !== undefined) {
    const rendered = renderMessenger(contentFor(request, 'fbMessenger'));
    if (!rendered.ok) channelErrors.push(...rendered.errors);
  }
  for (const error of channelErrors) {
    if (!reported.has(error.pointer)) errors.push({ pointer: error.pointer, detail: error.message });
  }
}

/**
 * Builds the content a channel validator checks, before merge fields are applied, so lengths
 * are those of the unmerged text. Merged values can still make content invalid, which the channel
 * then reports when it sends.
 */
function contentFor(request: SendRequest, channel: 'whatsApp' | 'fbMessenger'): ChannelContent {
  return {
    body: request.body,
    title: request.title ?? null,
    custom: request.customBody?.[channel] ?? null,
    options: request.channelOptions?.[channel] ?? null,
  };
}

function checkTimes(request: SendRequest, now: number, errors: FieldError[]): { expiresAt: number | null; sendAt: number | null } {
  const expiresAt = parseDateTime(request.expiresOn, '/expiresOn', errors);
  const sendAt = parseDateTime(request.sendAt, '/sendAt', errors);

  if (expiresAt !== null && expiresAt <= now) {
    errors.push({ pointer: '/expiresOn', detail: `is not in the future (server time is ${new Date(now).toISOString()})` });
  }
  if (expiresAt !== null && sendAt !== null && sendAt >= expiresAt) {
    errors.push({ pointer: '/sendAt', detail: 'must be earlier than expiresOn, or the message expires before it starts' });
  }
  return { expiresAt, sendAt };
}

function parseDateTime(value: string | undefined, pointer: string, errors: FieldError[]): number | null {
  if (value === undefined) return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    errors.push({ pointer, detail: 'is not a valid date-time' });
    return null;
  }
  return ms;
}

function checkMetadata(request: SendRequest, errors: FieldError[]): void {
  if (request.metadata === undefined) return;
  const bytes = Buffer.byteLength(JSON.stringify(request.metadata), 'utf8');
  if (bytes > SEND_LIMITS.metadataBytes) {
    errors.push({ pointer: '/metadata', detail: `is ${bytes} bytes as JSON, more than the maximum of ${SEND_LIMITS.metadataBytes}` });
  }
}
