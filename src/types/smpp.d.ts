/**
 * Types for the parts of the `smpp` package (0.5.x, CommonJS, ships no types) that Cascade
 * uses. Field values on a PDU stay `unknown`: code reads them through checked accessors.
 */
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket } from 'node:net';

  namespace smpp {
    /** One SMPP PDU: header fields, then mandatory parameters and TLVs by their spec names. */
    class PDU {
      constructor(command: string, options?: Record<string, unknown>);
      command: string;
      command_id: number;
      command_status: number;
      sequence_number: number;
      isResponse(): boolean;
      /** Builds the `*_resp` PDU with this PDU's sequence number. */
      response(options?: Record<string, unknown>): PDU;
      [field: string]: unknown;
    }

    /** One SMPP connection, client or server side. Emits `pdu`, the PDU's command name, `connect`, `close` and `error`. */
    class Session extends EventEmitter {
      socket: Socket;
      /** Writes `pdu`; `responseCallback` runs when the response with the same sequence number arrives. Returns false when the socket is not writable. */
      send(pdu: PDU, responseCallback?: (response: PDU) => void, sendCallback?: (pdu: PDU) => void): boolean;
      close(callback?: () => void): void;
      destroy(callback?: () => void): void;
    }

    class Server extends NetServer {
      sessions: Session[];
    }

    interface ParamDefinition {
      type: unknown;
      filter?: PduFieldFilter;
    }

    /** Conversion the package applies to a field when a PDU is written (`encode`) or read (`decode`). */
    interface PduFieldFilter {
      encode(this: PDU, value: unknown, skipUdh?: boolean): unknown;
      decode(this: PDU, value: unknown, skipUdh?: boolean): unknown;
    }

    interface CommandDefinition {
      id: number;
      params?: Record<string, ParamDefinition>;
    }

    interface TlvDefinition {
      id: number;
      type: unknown;
      filter?: PduFieldFilter;
    }

    function connect(options: { host: string; port: number }, listener?: () => void): Session;
    function createServer(listener?: (session: Session) => void): Server;

    const commands: Record<string, CommandDefinition>;
    const tlvs: Record<string, TlvDefinition>;
    /** Command status names (`ESME_ROK`, `ESME_RTHROTTLED`, …) to their numeric values. */
    const errors: Record<string, number>;
  }

  export = smpp;
}
