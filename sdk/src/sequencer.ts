import type { FeedMessage } from './protocol.js';

/**
 * Keeps the emitted feed in `seq` order with no repeats. `lastSeq` is the highest `seq`
 * emitted; a message at or below it is a duplicate and is dropped.
 *
 * While the client fills a gap over HTTP it calls `hold()`: socket messages are then kept
 * aside, because emitting one would raise `lastSeq` past the messages still being fetched.
 * `release()` returns the kept ones that are still new, in order.
 */
export class FeedSequencer {
  #lastSeq: number;
  #heldBySeq: Map<number, FeedMessage> | null = null;

  constructor(lastSeq = 0) {
    this.#lastSeq = lastSeq;
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  get holding(): boolean {
    return this.#heldBySeq !== null;
  }

  /** Takes a message from the socket; returns the messages to emit now (none or this one). */
  receive(message: FeedMessage): FeedMessage[] {
    if (message.seq <= this.#lastSeq) return [];
    if (this.#heldBySeq !== null) {
      if (!this.#heldBySeq.has(message.seq)) this.#heldBySeq.set(message.seq, message);
      return [];
    }
    this.#lastSeq = message.seq;
    return [message];
  }

  /**
   * Moves `lastSeq` down to `seq`, for a server whose feed ends below it after a database reset.
   * Later messages from that server would otherwise all look like duplicates.
   */
  rewind(seq: number): void {
    if (seq < this.#lastSeq) this.#lastSeq = seq;
  }

  hold(): void {
    this.#heldBySeq ??= new Map();
  }

  /** Takes fetched messages, even while holding; returns the new ones sorted by `seq`. */
  admit(messages: readonly FeedMessage[]): FeedMessage[] {
    const fresh: FeedMessage[] = [];
    for (const message of [...messages].sort((a, b) => a.seq - b.seq)) {
      if (message.seq <= this.#lastSeq) continue;
      this.#lastSeq = message.seq;
      fresh.push(message);
    }
    return fresh;
  }

  /** Stops holding; returns the held messages above `lastSeq`, sorted by `seq`. */
  release(): FeedMessage[] {
    const held = this.#heldBySeq === null ? [] : [...this.#heldBySeq.values()];
    this.#heldBySeq = null;
    return this.admit(held);
  }
}
