import type { Logger } from 'pino';
import type { Channel, ProviderReceipt } from '../channels/types.js';
import { UNSCOPED_SPACE_ID, type AttemptRef, type Store, type StoredReceipt } from '../store/types.js';
import type { DeliveryMetrics } from './metrics.js';
import type { MessageRunner } from './runner.js';

/**
 * Takes provider receipts: stores each once, matches it to its attempt through the store, and
 * feeds it to the engine. A receipt whose attempt is not known yet stays stored until the send
 * call that created it returns.
 */
export class ReceiptIntake {
  constructor(
    private readonly store: Store,
    private readonly runner: MessageRunner,
    private readonly metrics: DeliveryMetrics,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  /**
   * Store and apply one receipt. `spaceId` is null for channels shared by every space: the
   * attempt is then found by provider id alone, and a receipt that beats its attempt is kept
   * without a space until the attempt claims it.
   */
  async receive(spaceId: string | null, channel: Channel, receipt: ProviderReceipt): Promise<void> {
    const keys = channel.matchKeys(receipt.providerMessageId);
    const ref = await this.store.findAttemptByKeys(spaceId, channel.id, keys);
    // Once the attempt is known, a receipt is stored once per attempt part and state, whatever
    // form of the id it names (an SMSC may write the same id in hex and in decimal).
    const key = ref === null ? (keys[0] ?? receipt.providerMessageId) : `attempt:${ref.messageId}:${ref.step}:${ref.attempt}:${ref.part}`;
    const stored = await this.store.insertReceipt({
      spaceId: ref?.spaceId ?? spaceId ?? UNSCOPED_SPACE_ID,
      channel: channel.id,
      key,
      providerMessageId: receipt.providerMessageId,
      state: receipt.state,
      errorCode: receipt.errorCode,
      providerTimestamp: receipt.providerTimestamp,
      receivedAt: this.now(),
    });
    const log = this.logger.child({ spaceId, channel: channel.id, providerMessageId: receipt.providerMessageId, state: receipt.state });
    if (stored === null) {
      this.metrics.receipts.inc({ channel: channel.id, result: 'duplicate' });
      log.debug('duplicate receipt ignored');
      return;
    }
    if (ref === null) {
      // The send call may have recorded its attempt, and looked for early receipts, between the
      // lookup above and the insert. Looking again after the insert closes that gap: either this
      // lookup finds the attempt, or the send call's look finds the stored receipt.
      const recorded = await this.store.findAttemptByKeys(spaceId, channel.id, keys);
      if (recorded === null) {
        this.metrics.receipts.inc({ channel: channel.id, result: 'early' });
        log.info('receipt stored before its attempt was known');
        return;
      }
      log.info('attempt recorded while the receipt was stored; applying it');
      await this.#apply(stored, recorded, log);
      return;
    }
    await this.#apply(stored, ref, log);
  }

  /**
   * Apply receipts that were stored before their attempt was known and that no send call
   * applied: the process that recorded the attempt stopped before it looked for them. Receipts
   * younger than `graceMs` are left to the send call that is about to apply them. Returns how
   * many were applied.
   */
  async sweep(graceMs = 5_000, maxAgeMs = 7 * 86_400_000): Promise<number> {
    const now = this.now();
    const found = await this.store.matchedUnappliedReceipts(now - maxAgeMs, now - graceMs, 100);
    for (const { receipt, ref } of found) {
      const log = this.logger.child({ spaceId: ref.spaceId, channel: receipt.channel, providerMessageId: receipt.providerMessageId, state: receipt.state });
      log.info('applying a receipt that a stopped process left unapplied');
      await this.#apply(receipt, ref, log);
    }
    return found.length;
  }

  /** Apply receipts stored under `keys` before their attempt was known. */
  async applyPending(spaceId: string, channel: Channel, keys: string[]): Promise<void> {
    const pending = await this.store.pendingReceipts(spaceId, channel.id, keys);
    for (const receipt of pending) {
      const ref = await this.store.findAttemptByKeys(spaceId, channel.id, channel.matchKeys(receipt.providerMessageId));
      if (ref === null) continue;
      const log = this.logger.child({ spaceId, channel: channel.id, providerMessageId: receipt.providerMessageId, state: receipt.state });
      log.info('applying receipt that arrived before the send call returned');
      await this.#apply(receipt, ref, log);
    }
  }

  async #apply(receipt: StoredReceipt, ref: AttemptRef, log: Logger): Promise<void> {
    this.metrics.receipts.inc({ channel: receipt.channel, result: 'applied' });
    // A message split into parts counts as delivered once every part is; a failed part fails it at once.
    if (receipt.state === 'delivered' && ref.parts > 1) {
      await this.store.markReceiptApplied(receipt.id, ref, this.now());
      const delivered = await this.store.countPartsWithReceipt(ref, 'delivered');
      if (delivered < ref.parts) {
        log.debug({ delivered, parts: ref.parts }, 'part delivered, waiting for the other parts');
        return;
      }
    }
    await this.runner.apply(
      ref.spaceId,
      ref.messageId,
      { type: 'receipt', step: ref.step, attempt: ref.attempt, state: receipt.state, errorCode: receipt.errorCode },
      { appliedReceipt: { receiptId: receipt.id, ref } },
    );
  }
}
