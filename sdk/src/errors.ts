/**
 * Codes of errors raised by the client itself. Errors relayed from the server's `error` frames
 * carry the server's code instead.
 *
 * - `unauthorized`: the server rejected the app token (HTTP 401).
 * - `token-failed`: the token function threw or returned an empty string.
 * - `connection-failed`: the socket closed before the server sent `ready`.
 * - `invalid-frame`: the server sent a frame or response body that does not match the protocol.
 * - `request-failed`: an HTTP request failed, or the server responded with a status other than 2xx and 401.
 * - `listener-failed`: an event listener threw; the thrown value is the `cause`.
 * - `closed`: `connect()` was pending when `close()` was called.
 */
export type AppClientErrorCode =
  | 'unauthorized'
  | 'token-failed'
  | 'connection-failed'
  | 'invalid-frame'
  | 'request-failed'
  | 'listener-failed'
  | 'closed';

/**
 * An error of the app client. Messages never contain the app token or message bodies.
 *
 * @example
 * client.on('error', (error) => {
 *   if (error.code === 'unauthorized') showSignIn();
 * });
 */
export class AppClientError extends Error {
  /** An `AppClientErrorCode`, or the code of a server `error` frame. */
  readonly code: AppClientErrorCode | (string & {});
  /** HTTP status of the response that caused the error, or null. */
  readonly status: number | null;

  constructor(code: AppClientErrorCode | (string & {}), message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppClientError';
    this.code = code;
    this.status = options.status ?? null;
  }
}
