import type { ChannelId } from '../../routing/types.js';

/** A Web Push subscription of one device (the browser's `PushSubscription.toJSON()`). */
export interface PushSubscriptionInput {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface AppDevice {
  spaceId: string;
  appUserId: string;
  deviceId: string;
  push: PushSubscriptionInput | null;
  createdAt: number;
  lastSeenAt: number;
}

export interface FeedEntry {
  spaceId: string;
  appUserId: string;
  messageId: string;
  seq: number;
  /** The attempt that put the message in the feed, as `<messageId>_<step>_<attempt>`. */
  providerMessageId: string;
  title: string | null;
  body: string;
  data: Record<string, unknown> | null;
  sentOn: number;
  deliveredAt: number | null;
  readAt: number | null;
}

/**
 * Storage of the app channel's own provider side: the feed of each app user and their devices.
 * The store implements it; the channel and its routes use nothing else of the store.
 */
export interface AppFeedStore {
  /**
   * Add a message to an app user's feed; returns the entry. Adding the same message again
   * (a retried attempt) returns the existing entry, so the feed holds each message once.
   */
  appendFeed(entry: Omit<FeedEntry, 'seq' | 'deliveredAt' | 'readAt'>): Promise<FeedEntry>;
  /** Feed entries with `seq > after`, oldest first, at most `limit`. */
  readFeed(spaceId: string, appUserId: string, after: number, limit: number): Promise<FeedEntry[]>;
  getFeedEntry(spaceId: string, appUserId: string, messageId: string): Promise<FeedEntry | null>;
  /** The largest `seq` in an app user's feed, or 0 when the feed is empty. */
  lastFeedSeq(spaceId: string, appUserId: string): Promise<number>;
  /** Set `deliveredAt` (or `readAt`, which implies delivered) once; returns whether it changed. */
  markFeed(spaceId: string, appUserId: string, messageId: string, state: 'delivered' | 'read', at: number): Promise<boolean>;
  /** Register or update a device; returns it. */
  upsertDevice(device: Omit<AppDevice, 'createdAt' | 'lastSeenAt'>, now: number): Promise<AppDevice>;
  listDevices(spaceId: string, appUserId: string): Promise<AppDevice[]>;
  deleteDevice(spaceId: string, appUserId: string, deviceId: string): Promise<boolean>;
}

export const APP_CHANNEL: ChannelId = 'appMessaging';
