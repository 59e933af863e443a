import type { Logger } from 'pino';
import { channelSettingsContext, type AppMessagingSettings } from '../channels/settings.js';
import type { SecretBox } from '../secret-box.js';
import type { ChannelSettingsStore } from '../store/types.js';
import type { VapidDetails } from '../vapid-keys.js';

/**
 * The VAPID key pairs of spaces with Web Push settings of their own, read from the store once
 * and kept until `invalidate`. A space without settings, or whose settings do not decrypt,
 * gets null and pushes with the server's key pair.
 */
export class SpaceVapidKeys {
  readonly #cache = new Map<string, Promise<VapidDetails | null>>();

  constructor(
    private readonly settings: ChannelSettingsStore,
    private readonly box: SecretBox,
    private readonly logger: Logger,
  ) {}

  get(spaceId: string): Promise<VapidDetails | null> {
    let entry = this.#cache.get(spaceId);
    if (entry === undefined) {
      entry = this.#load(spaceId);
      this.#cache.set(spaceId, entry);
      entry.catch(() => this.#cache.delete(spaceId));
    }
    return entry;
  }

  invalidate(spaceId: string): void {
    this.#cache.delete(spaceId);
  }

  async #load(spaceId: string): Promise<VapidDetails | null> {
    const stored = await this.settings.get(spaceId, 'appMessaging');
    if (stored === null) return null;
    try {
      const parsed = JSON.parse(this.box.open(stored.sealed, channelSettingsContext(spaceId, 'appMessaging'))) as AppMessagingSettings;
      return { publicKey: parsed.vapidPublicKey, privateKey: parsed.vapidPrivateKey, subject: parsed.vapidSubject };
    } catch (error) {
      this.logger.error({ err: error, spaceId, keyId: stored.keyId }, 'Web Push settings could not be decrypted; the server key pair is used');
      return null;
    }
  }
}
