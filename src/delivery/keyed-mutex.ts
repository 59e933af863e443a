/**
 * Runs tasks one at a time per key, in arrival order. The delivery layer keys it by message id
 * so that jobs and receipts of one message never race inside this process.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const current = previous.then(task, task);
    const tail = current.catch(() => undefined);
    this.#tails.set(key, tail);
    try {
      return await current;
    } finally {
      // Only the last task of a key removes the entry, so the map holds busy keys only.
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
