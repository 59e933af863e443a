import { describeCommandStatus } from './smpp-pdu.js';

export type SmppConnectionErrorReason = 'not-bound' | 'timeout' | 'connection-lost' | 'unreachable' | 'closed';

/** The SMSC could not be reached or did not respond, so the request may succeed later. */
export class SmppConnectionError extends Error {
  override name = 'SmppConnectionError';

  constructor(
    readonly reason: SmppConnectionErrorReason,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The SMSC rejected `bind_transceiver`, usually for a wrong system_id or password. */
export class SmppBindError extends Error {
  override name = 'SmppBindError';

  constructor(
    readonly commandStatus: number,
    endpoint: string,
    systemId: string,
  ) {
    super(
      `SMPP bind to ${endpoint} as system_id "${systemId}" was rejected with ${describeCommandStatus(commandStatus)}; ` +
        'check the system_id and password of the SMPP URL.',
    );
  }
}
