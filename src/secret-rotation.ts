import type { Logger } from 'pino';
import type { ChannelId } from './routing/types.js';
import { channelSettingsContext } from './channels/settings.js';
import { SecretBox } from './secret-box.js';
import type { Store } from './store/types.js';
import { openWebhookSecret, webhookSecretContext } from './webhooks/secret-storage.js';

export interface ResealReport {
  /** Values now sealed with the current key. */
  resealed: number;
  /** Values sealed with a key that is not configured; they stay as they are. */
  unreadable: number;
}

const BATCH = 100;

/** Seals the value again with the current key; returns null after logging why it cannot be opened. */
function resealed(box: SecretBox, sealed: string, context: string, logger: Logger, log: Record<string, unknown>, subject: string): string | null {
  const keyId = SecretBox.keyIdOf(sealed);
  if (keyId !== null && !box.hasKey(keyId)) {
    logger.error(log, `${subject} sealed with a key that is not configured; add the key to ENCRYPTION_OLD_KEYS`);
    return null;
  }
  try {
    return box.seal(box.open(sealed, context), context);
  } catch (error) {
    logger.error({ ...log, err: error }, `${subject} could not be decrypted`);
    return null;
  }
}

/**
 * Seals every stored credential with the current key: channel settings sealed with an older
 * key, and webhook secrets sealed with an older key or stored before encryption. Runs at
 * start-up, so that after one start with the new key in `ENCRYPTION_KEY` and the old one in
 * `ENCRYPTION_OLD_KEYS`, the old key can be removed. A value changed meanwhile by another
 * process is left to that process.
 */
export async function resealStoredSecrets(store: Store, box: SecretBox, logger: Logger): Promise<ResealReport> {
  const report: ResealReport = { resealed: 0, unreadable: 0 };
  let after: { spaceId: string; channel: ChannelId } | null = null;
  for (;;) {
    const rows = await store.channelSettings.listSealedWithOtherKey(box.keyId, after, BATCH);
    for (const row of rows) {
      const context = channelSettingsContext(row.spaceId, row.channel);
      const log = { spaceId: row.spaceId, channel: row.channel, keyId: row.keyId };
      const sealed = resealed(box, row.sealed, context, logger, log, 'channel settings');
      if (sealed === null) report.unreadable += 1;
      // A row changed meanwhile by another process is left to it.
      else if (await store.channelSettings.reseal(row.spaceId, row.channel, row.sealed, sealed, box.keyId)) report.resealed += 1;
    }
    const last = rows.at(-1);
    if (last === undefined || rows.length < BATCH) break;
    after = { spaceId: last.spaceId, channel: last.channel };
  }

  for (const endpoint of await store.webhooks.listEndpointSecrets()) {
    const keyId = SecretBox.keyIdOf(endpoint.secret);
    if (keyId === box.keyId) continue;
    const context = webhookSecretContext(endpoint.spaceId, endpoint.endpointId);
    const log = { spaceId: endpoint.spaceId, endpointId: endpoint.endpointId, keyId };
    // A secret stored before encryption existed is sealed for the first time.
    const sealed = keyId === null ? box.seal(openWebhookSecret(box, endpoint.secret, endpoint.spaceId, endpoint.endpointId), context) : resealed(box, endpoint.secret, context, logger, log, 'a webhook secret');
    if (sealed === null) report.unreadable += 1;
    else if (await store.webhooks.replaceEndpointSecret(endpoint.spaceId, endpoint.endpointId, endpoint.secret, sealed)) report.resealed += 1;
  }
  if (report.unreadable > 0) {
    logger.warn({ ...report, keyId: box.keyId }, 'some stored credentials could not be re-encrypted with the current encryption key');
  } else {
    logger.info({ ...report, keyId: box.keyId }, 'every stored credential is encrypted with the current encryption key');
  }
  return report;
}
