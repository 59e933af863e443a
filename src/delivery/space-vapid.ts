import type { Logger } from 'pino';
import { openChannelSettings } from '../channels/settings.js';
import type { SecretBox } from '../secret-box.js';
import type { ChannelSettingsStore } from '../store/types.js';
import type { VapidDetails } from '../vapid-keys.js';

/**
 * The VAPID key pairs of spaces with Web Push settings of their own. Each is read from the
 * store and kept until `invalidate` or for `refreshMs`, after which the next push reads it
 * again, so that a change made by another process takes effect. A space without settings, or
 * whose settings do not decrypt, gets null and pushes with the server's key pair.
 */
export class SpaceVapidKeys {
  readonly #cache = new Map<string, { keys: Promise<VapidDetails | null>; loadedAt: number }>();

  constructor(
    private readonly settings: ChannelSettingsStore,
    private readonly box: SecretBox,
    private readonly logger: Logger,
    private readonly refreshMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(spaceId: string): Promise<VapidDetails | null> {
    const cached = this.#cache.get(spaceId);
    if (cached !== undefined && this.now() - cached.loadedAt < this.refreshMs) return cached.keys;
    const entry = { keys: this.#load(spaceId), loadedAt: this.now() };
    this.#cache.set(spaceId, entry);
    entry.keys.catch(() => {
      if (this.#cache.get(spaceId) === entry) this.#cache.delete(spaceId);
    });
    return entry.keys;
  }

  invalidate(spaceId: string): void {
    this.#cache.delete(spaceId);
  }

  async #load(spaceId: string): Promise<VapidDetails | null> {
    const stored = await this.settings.get(spaceId, 'appMessaging');
    if (stored === null) return null;
    try {
      const parsed = openChannelSettings(this.box, { spaceId, channel: 'appMessaging', sealed: stored.sealed });
      return { publicKey: parsed.vapidPublicKey, privateKey: parsed.vapidPrivateKey, subject: parsed.vapidSubject };
    } catch (error) {
      this.logger.error({ err: error, spaceId, keyId: stored.keyId }, 'Web Push settings could not be decrypted; the server key pair is used');
      return null;
    }
  }
}
