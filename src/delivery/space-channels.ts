import type { Logger } from 'pino';
import { openChannelSettings, type ChannelSettingsById } from '../channels/settings.js';
import type { Channel } from '../channels/types.js';
import type { ChannelId } from '../routing/types.js';
import type { SecretBox } from '../secret-box.js';
import type { ChannelSettingsStore } from '../store/types.js';

/** Channels a space can configure with provider connections of its own. */
export type ProviderChannelId = Exclude<ChannelId, 'appMessaging'>;

/** Builds a stopped channel from one space's settings. */
export type ChannelFactory = <C extends ProviderChannelId>(spaceId: string, channel: C, settings: ChannelSettingsById[C]) => Channel;

/** Called once for each channel built from a space's settings, before it starts. */
export type ChannelBuiltListener = (spaceId: string, channel: Channel) => void;

export interface SpaceChannelsOptions {
  settings: ChannelSettingsStore;
  box: SecretBox;
  /** The space the process channels (configured from the environment, or the sandbox) belong to. */
  defaultSpaceId: string;
  /** Channels configured for the whole process. */
  processChannels: ReadonlyMap<ChannelId, Channel>;
  /**
   * Process channels that also serve spaces without settings of their own: the sandbox peers,
   * which reach no real provider, and the app channel, which needs no provider.
   */
  shared: ReadonlySet<ChannelId>;
  factory: ChannelFactory;
  logger: Logger;
  /**
   * How often a built channel's settings are compared with the stored ones, in ms, so that a
   * change made by another process takes effect here. Default 10,000.
   */
  refreshMs?: number;
  /**
   * How long a replaced channel keeps running before it is stopped, in ms, so that sends still
   * using it finish. Longer than the slowest provider call. Default 90,000.
   */
  retireMs?: number;
  /** Epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

/** The channel of one space, or null when it has none. */
interface Entry {
  channel: Channel | null;
  /** Whether the channel was built for this space and must be stopped when replaced. */
  owned: boolean;
  /** The sealed settings the channel was built from; null when the space had none. */
  sealed: string | null;
  /** When the stored settings were last read, epoch ms. */
  checkedAt: number;
  /** The comparison with the stored settings in progress, shared by concurrent sends. */
  checking: Promise<boolean> | null;
}

/** Finds the channel a space sends through. */
export interface ChannelResolver {
  resolve(spaceId: string, channel: ChannelId): Promise<Channel | undefined>;
}

/**
 * The channels each space sends through. A space with stored settings for a channel gets a
 * channel of its own, built on first use and kept until the settings change. A space without
 * settings uses the process channel: always for the default space, and for other spaces only
 * when it is shared (see `shared`), so one space's credentials from the environment never carry
 * another space's messages.
 *
 * A change of settings takes effect at once in the process that made it (`invalidate`), and in
 * other processes on the same database within `refreshMs`, when a send finds the stored
 * settings changed.
 */
export class SpaceChannels implements ChannelResolver {
  readonly #options: SpaceChannelsOptions;
  readonly #entries = new Map<string, Promise<Entry>>();
  readonly #listeners: ChannelBuiltListener[] = [];
  readonly #refreshMs: number;
  readonly #retireMs: number;
  readonly #retired = new Set<{ entry: Promise<Entry>; spaceId: string; channel: ChannelId; timer: NodeJS.Timeout | null }>();
  readonly #now: () => number;
  #closed = false;

  constructor(options: SpaceChannelsOptions) {
    this.#options = options;
    this.#refreshMs = options.refreshMs ?? 10_000;
    this.#retireMs = options.retireMs ?? 90_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Returns the space whose attempts the receipts of a process channel may match: null for a
   * channel that serves every space (the sandbox peers), else the default space, whose
   * environment settings it carries. A receipt from it must never match another space.
   */
  processReceiptSpace(channel: ChannelId): string | null {
    return this.#options.shared.has(channel) ? null : this.#options.defaultSpaceId;
  }

  /** Adds a listener for channels built from now on. */
  onChannelBuilt(listener: ChannelBuiltListener): void {
    this.#listeners.push(listener);
  }

  /** Returns the channel `spaceId` sends `channel` messages through, or undefined when it has none. */
  async resolve(spaceId: string, channel: ChannelId): Promise<Channel | undefined> {
    const key = `${spaceId}\u0000${channel}`;
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = this.#load(spaceId, channel);
      this.#entries.set(key, entry);
      // A failed load is not cached, so the next send reads the settings again.
      entry.catch(() => {
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
      });
    }
    const loaded = await entry;
    if (channel !== 'appMessaging' && this.#now() - loaded.checkedAt >= this.#refreshMs) {
      loaded.checking ??= this.#isCurrent(spaceId, channel, loaded).finally(() => {
        loaded.checking = null;
      });
      if (!(await loaded.checking)) {
        this.#options.logger.info({ spaceId, channel }, 'channel settings changed in another process; rebuilding the channel');
        if (this.#entries.get(key) === entry) await this.invalidate(spaceId, channel);
        return this.resolve(spaceId, channel);
      }
    }
    return loaded.channel ?? undefined;
  }

  /** Reads the stored settings again; false when they differ from the ones `entry` was built from. */
  async #isCurrent(spaceId: string, channel: ChannelId, entry: Entry): Promise<boolean> {
    const stored = await this.#options.settings.get(spaceId, channel);
    entry.checkedAt = this.#now();
    return (stored?.sealed ?? null) === entry.sealed;
  }

  /** Drops the space's channel after its settings changed, stopping it when it was built for the space. */
  async invalidate(spaceId: string, channel: ChannelId): Promise<void> {
    const key = `${spaceId}\u0000${channel}`;
    const entry = this.#entries.get(key);
    this.#entries.delete(key);
    if (entry === undefined) return;
    // A send may still be using the old channel, and stopping it would fail that send and make
    // it go out again. The old channel keeps running, and receiving receipts, for `retireMs`.
    const retired = { entry, spaceId, channel, timer: null as NodeJS.Timeout | null };
    retired.timer = setTimeout(() => {
      this.#retired.delete(retired);
      void this.#stopEntry(entry, spaceId, channel);
    }, this.#retireMs);
    retired.timer.unref();
    this.#retired.add(retired);
  }

  /** Stops every channel built for a space, retired ones included. Process channels are stopped by their owner. */
  async close(): Promise<void> {
    this.#closed = true;
    const entries = [...this.#entries.entries()].map(([key, entry]) => {
      const [spaceId = '', channel = ''] = key.split('\u0000');
      return { entry, spaceId, channel: channel as ChannelId };
    });
    this.#entries.clear();
    for (const retired of this.#retired) {
      if (retired.timer !== null) clearTimeout(retired.timer);
      entries.push(retired);
    }
    this.#retired.clear();
    for (const { entry, spaceId, channel } of entries) await this.#stopEntry(entry, spaceId, channel);
  }

  async #stopEntry(entry: Promise<Entry>, spaceId: string, channel: ChannelId): Promise<void> {
    let loaded: Entry;
    try {
      loaded = await entry;
    } catch {
      return;
    }
    if (!loaded.owned || loaded.channel === null) return;
    try {
      await loaded.channel.stop();
      this.#options.logger.info({ spaceId, channel }, 'space channel stopped');
    } catch (error) {
      this.#options.logger.error({ err: error, spaceId, channel }, 'stopping a space channel failed');
    }
  }

  async #load(spaceId: string, channel: ChannelId): Promise<Entry> {
    const { settings, processChannels, defaultSpaceId, shared, logger } = this.#options;
    const checkedAt = this.#now();
    const fallback = (): Entry => {
      const process = processChannels.get(channel) ?? null;
      const usable = spaceId === defaultSpaceId || shared.has(channel);
      return { channel: usable ? process : null, owned: false, sealed: null, checkedAt, checking: null };
    };
    if (channel === 'appMessaging') return fallback();

    const stored = await settings.get(spaceId, channel);
    if (stored === null) return fallback();
    if (this.#closed) throw new Error('the space channels are closed');

    let parsed: ChannelSettingsById[ProviderChannelId];
    try {
      parsed = openChannelSettings(this.#options.box, { spaceId, channel, sealed: stored.sealed });
    } catch (error) {
      // The step is skipped as not configured rather than sent with another space's connection.
      logger.error({ err: error, spaceId, channel, keyId: stored.keyId }, 'channel settings could not be decrypted; the channel is off for this space');
      return { channel: null, owned: false, sealed: stored.sealed, checkedAt, checking: null };
    }
    let built: Channel;
    try {
      built = this.#options.factory(spaceId, channel, parsed as never);
    } catch (error) {
      // The step is skipped, so that routing moves on, rather than retried for ever.
      logger.error({ err: error, spaceId, channel }, 'channel settings are not usable; the channel is off for this space');
      return { channel: null, owned: false, sealed: stored.sealed, checkedAt, checking: null };
    }
    for (const listener of this.#listeners) listener(spaceId, built);
    try {
      await built.start();
      logger.info({ spaceId, channel }, 'space channel started');
    } catch (error) {
      // The same rule as for process channels: an unreachable peer is retried in the background,
      // rejected credentials make sends fail until the settings are fixed.
      logger.error({ err: error, spaceId, channel }, 'space channel did not connect');
    }
    return { channel: built, owned: true, sealed: stored.sealed, checkedAt, checking: null };
  }
}
