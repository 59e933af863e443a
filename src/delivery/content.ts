import type { Addresses, ChannelContent } from '../channels/types.js';
import type { ChannelId } from '../routing/types.js';
import type { LoadedMessage } from '../store/types.js';

const FIELD = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

interface MergeValues {
  profileId: string | null;
  properties: Record<string, unknown>;
  body: string;
  title: string;
}

function lookup(name: string, values: MergeValues): string {
  if (name === 'profileId') return values.profileId ?? '';
  if (name === 'body') return values.body;
  if (name === 'title') return values.title;
  if (name.startsWith('profile.')) {
    const value = values.properties[name.slice('profile.'.length)];
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  }
  // A missing or non-scalar value merges as an empty string.
  return '';
}

/** Replace `{{profile.x}}`, `{{profileId}}`, `{{body}}` and `{{title}}` in `template`. */
export function mergeFields(template: string, values: MergeValues): string {
  return template.replace(FIELD, (_match, name: string) => lookup(name, values));
}

function mergeDeep(value: unknown, values: MergeValues): unknown {
  if (typeof value === 'string') return mergeFields(value, values);
  if (Array.isArray(value)) return value.map((item) => mergeDeep(item, values));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mergeDeep(item, values)]));
  }
  return value;
}

/** Merge the request's `to` over the addresses the profile stores. */
export function messageAddresses(message: LoadedMessage): Addresses {
  return { ...(message.profile?.addresses ?? {}), ...message.to };
}

/** Build the content of `message` for one channel, with merge fields applied. */
export function channelContent(message: LoadedMessage, channel: ChannelId): ChannelContent {
  const plain: MergeValues = {
    profileId: message.profileId,
    properties: message.profile?.properties ?? {},
    body: message.content.body,
    title: message.content.title ?? '',
  };
  // `{{body}}` and `{{title}}` in custom bodies insert the merged versions.
  const merged: MergeValues = {
    ...plain,
    body: mergeFields(plain.body, plain),
    title: mergeFields(plain.title, plain),
  };
  const custom = message.content.customBody[channel];
  const options = message.content.channelOptions[channel];
  return {
    body: merged.body,
    title: message.content.title === null ? null : merged.title,
    custom: custom ? (mergeDeep(custom, merged) as Record<string, unknown>) : null,
    options: options ?? null,
  };
}
