import type { ClientFrame } from './protocol.js';

/** An `ack` or `read` frame. */
export type MarkFrame = Extract<ClientFrame, { messageId: string }>;

/** Frames kept per list; older ones are dropped. */
const MAX_KEPT = 256;
/** Times an acknowledgement is sent again after the server reported `ack-failed` for it. */
export const MAX_MARK_RETRIES = 5;

/**
 * The `ack` and `read` frames the server may not have stored. The socket protocol does not
 * confirm them, so the frames sent on a socket stay here until it closes. Then they move to the
 * resend list and go out again on the next socket, and the server applies repeats once. Each
 * list keeps the newest `MAX_KEPT` frames.
 */
export class UnconfirmedMarks {
  readonly #sent = new Map<string, MarkFrame>();
  readonly #resend = new Map<string, MarkFrame>();
  /** Retries so far of frames the server failed to store, by frame key. */
  readonly #retries = new Map<string, number>();

  /** Records a frame sent on the current socket. */
  sent(frame: MarkFrame): void {
    keep(this.#sent, keyOf(frame), frame);
  }

  /** Adds a frame to the resend list, for one that could not be sent now. */
  queue(frame: MarkFrame): void {
    keep(this.#resend, keyOf(frame), frame);
  }

  /** Moves the frames of the socket that closed to the resend list. */
  socketClosed(): void {
    for (const [key, frame] of this.#sent) keep(this.#resend, key, frame);
    this.#sent.clear();
  }

  /** Returns the resend list and empties it. */
  takeResend(): MarkFrame[] {
    const frames = [...this.#resend.values()];
    this.#resend.clear();
    return frames;
  }

  /**
   * Removes the sent frames of `messageId` after the server reported `code` for it. Returns
   * those to send again, each with its retry number (0 for the first retry). Only `ack-failed`
   * is retried, at most `MAX_MARK_RETRIES` times per frame.
   */
  failed(code: string, messageId: string): Array<{ frame: MarkFrame; retry: number }> {
    const retries: Array<{ frame: MarkFrame; retry: number }> = [];
    for (const type of ['ack', 'read'] as const) {
      const key = keyOf({ type, messageId });
      const frame = this.#sent.get(key);
      if (frame === undefined) continue;
      this.#sent.delete(key);

      const retry = this.#retries.get(key) ?? 0;
      if (code !== 'ack-failed' || retry >= MAX_MARK_RETRIES) {
        this.#retries.delete(key);
        continue;
      }
      keep(this.#retries, key, retry + 1);
      retries.push({ frame, retry });
    }
    return retries;
  }
}

function keyOf(frame: MarkFrame): string {
  return `${frame.type}:${frame.messageId}`;
}

/** Sets `key` as the newest entry of `map` and deletes the oldest entries beyond `MAX_KEPT`. */
function keep<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_KEPT) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
}
