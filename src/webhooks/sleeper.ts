/**
 * A sleep that `wake()` ends early. A wake while no sleep is running is kept, so that the next sleep
 * returns at once: work reported between a check and the sleep is never missed.
 */
export class Sleeper {
  #woken = false;
  #endSleep: (() => void) | null = null;

  async sleep(delayMs: number): Promise<void> {
    if (this.#woken) {
      this.#woken = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.#endSleep = null;
        resolve();
      };
      const timer = setTimeout(finish, Math.max(0, delayMs));
      this.#endSleep = finish;
    });
    this.#woken = false;
  }

  wake(): void {
    if (this.#endSleep !== null) this.#endSleep();
    else this.#woken = true;
  }
}
