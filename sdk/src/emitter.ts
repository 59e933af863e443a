/** A listener registry keyed by event name, with one payload type per event. */
export class Emitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  on<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): void {
    this.#listeners.get(event)?.delete(listener);
  }

  /**
   * Calls every listener of `event` with `payload`. A listener that throws does not stop the
   * others; each thrown value is passed to `onListenerError`.
   */
  emit<E extends keyof Events>(event: E, payload: Events[E], onListenerError: (error: unknown) => void): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set] as Array<(payload: Events[E]) => void>) {
      try {
        listener(payload);
      } catch (error) {
        onListenerError(error);
      }
    }
  }
}
