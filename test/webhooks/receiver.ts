import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  /** The parsed body. */
  body: { type: string; timestamp: string; data: Record<string, unknown> };
  /** Whether `standardwebhooks` accepted the signature, id and timestamp. */
  verified: boolean;
  /** Status of this receiver's response. */
  status: number;
}

/** A status, or a status with response headers. */
export type ReceiverAnswer = number | { status: number; headers: Record<string, string> };

export interface ReceiverOptions {
  /** Response to the `index`-th request (0-based); 204 when absent. */
  respond?: (index: number) => ReceiverAnswer;
}

/**
 * A webhook receiver on 127.0.0.1 that verifies each request with the `standardwebhooks`
 * package and records it. Set `secret` once the endpoint is created.
 */
export class TestReceiver {
  secret: string | null = null;
  readonly requests: ReceivedWebhook[] = [];
  readonly #server: Server;
  readonly #respond: (index: number) => ReceiverAnswer;

  private constructor(server: Server, options: ReceiverOptions) {
    this.#server = server;
    this.#respond = options.respond ?? (() => 204);
  }

  static async start(options: ReceiverOptions = {}): Promise<TestReceiver> {
    const server = createServer();
    const receiver = new TestReceiver(server, options);
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const answer = receiver.#record(raw, request.headers);
        if (typeof answer === 'number') response.writeHead(answer).end();
        else response.writeHead(answer.status, answer.headers).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/hooks`;
  }

  /** Requests that passed verification and got a 2xx response. */
  accepted(): ReceivedWebhook[] {
    return this.requests.filter((request) => request.verified && request.status >= 200 && request.status < 300);
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #record(raw: string, headers: IncomingHttpHeaders): ReceiverAnswer {
    let verified = false;
    if (this.secret !== null) {
      try {
        new Webhook(this.secret).verify(raw, headers as Record<string, string>);
        verified = true;
      } catch {
        verified = false;
      }
    }
    const answer = verified ? this.#respond(this.requests.length) : 401;
    this.requests.push({
      id: String(headers['webhook-id']),
      timestamp: String(headers['webhook-timestamp']),
      body: JSON.parse(raw) as ReceivedWebhook['body'],
      verified,
      status: typeof answer === 'number' ? answer : answer.status,
    });
    return answer;
  }
}
