interface Waiter<T> {
  predicate: (item: T) => boolean;
  resolve: (item: T) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Log of the items a sandbox peer received, newest last and bounded to `maxItems` (the oldest
 * is dropped first), with promises that resolve when a matching item arrives.
 */
export class RecordLog<T> {
  readonly #items: T[] = [];
  readonly #waiters = new Set<Waiter<T>>();

  /** `noun` names an item in error messages, such as "message" or "push". */
  constructor(
    private readonly maxItems: number,
    private readonly noun: string,
    private readonly peer: string,
  ) {}

  add(item: T): void {
    this.#items.push(item);
    if (this.#items.length > this.maxItems) this.#items.splice(0, this.#items.length - this.maxItems);
    for (const waiter of this.#waiters) {
      if (waiter.predicate(item)) {
        this.#waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.resolve(item);
      }
    }
  }

  /** Return a copy of every kept item, oldest first. */
  all(): T[] {
    return [...this.#items];
  }

  /** Resolve with the first kept or later item that matches; reject after `timeoutMs`. */
  waitFor(predicate: (item: T) => boolean, timeoutMs: number): Promise<T> {
    const found = this.#items.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(new Error(`no matching ${this.noun} arrived at the ${this.peer} within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  /** Reject every pending `waitFor`, because the peer is closing. */
  close(): void {
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`the ${this.peer} closed before a matching ${this.noun} arrived`));
    }
    this.#waiters.clear();
  }
}
