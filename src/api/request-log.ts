import type { FastifyRequest } from 'fastify';

/**
 * Names of query parameters whose values are credentials, such as `hub.verify_token` of the
 * Meta webhook handshake and `token` of the app socket.
 */
const CREDENTIAL_PARAMETER = /token|secret|password|key|signature|auth/i;

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

/** Returns `url` with the value of each query parameter named like a credential replaced by `[redacted]`. */
export function redactQuery(url: string): string {
  const mark = url.indexOf('?');
  if (mark < 0) return url;
  const parameters = url
    .slice(mark + 1)
    .split('&')
    .map((parameter) => {
      const equals = parameter.indexOf('=');
      if (equals < 0 || !CREDENTIAL_PARAMETER.test(decodeName(parameter.slice(0, equals)))) return parameter;
      return `${parameter.slice(0, equals)}=[redacted]`;
    });
  return `${url.slice(0, mark)}?${parameters.join('&')}`;
}

/**
 * Serializes a request for the log as Fastify's default serializer does, but with credentials
 * in the query string redacted. Like the default, it logs no headers, so the Authorization
 * header never reaches the log.
 */
export function serializeRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: redactQuery(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}
