export const DEFAULT_SMPP_PORT = 2775;

export interface SmppEndpoint {
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType?: string;
}

/** Raised for an SMPP URL that cannot be used. The message never contains the password. */
export class SmppUrlError extends Error {
  override name = 'SmppUrlError';
}

const EXPECTED_FORM = 'expected smpp://system_id:password@host:port, with reserved characters percent-encoded';

/**
 * Parses `smpp://system_id:password@host:port[?system_type=...]`. The system_id and password
 * are percent-decoded, the port defaults to 2775, and brackets around an IPv6 host are removed.
 *
 * @example
 * parseSmppUrl('smpp://acme:s%40cret@smsc.example.net');
 * // { host: 'smsc.example.net', port: 2775, systemId: 'acme', password: 's@cret' }
 *
 * @throws {SmppUrlError} for another scheme (TLS `ssmpp://` is not supported), or a missing
 *   host or system_id.
 */
export function parseSmppUrl(url: string): SmppEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SmppUrlError(`Invalid SMPP URL: ${EXPECTED_FORM}.`);
  }

  if (parsed.protocol !== 'smpp:') {
    throw new SmppUrlError(`Invalid SMPP URL scheme "${parsed.protocol}": ${EXPECTED_FORM}.`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') {
    throw new SmppUrlError(`Invalid SMPP URL: the host is missing; ${EXPECTED_FORM}.`);
  }
  if (parsed.username === '') {
    throw new SmppUrlError(`Invalid SMPP URL: the system_id is missing; ${EXPECTED_FORM}.`);
  }

  let systemId: string;
  let password: string;
  try {
    systemId = decodeURIComponent(parsed.username);
    password = decodeURIComponent(parsed.password);
  } catch {
    throw new SmppUrlError(`Invalid SMPP URL: the system_id or password has a malformed percent-encoding; ${EXPECTED_FORM}.`);
  }

  const endpoint: SmppEndpoint = {
    host,
    port: parsed.port === '' ? DEFAULT_SMPP_PORT : Number(parsed.port),
    systemId,
    password,
  };
  const systemType = parsed.searchParams.get('system_type');
  if (systemType !== null) {
    endpoint.systemType = systemType;
  }
  return endpoint;
}
