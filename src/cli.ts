import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { SecretBoxError } from './secret-box.js';
import { startServer } from './server.js';

/** `npm start`: run the server until SIGINT or SIGTERM. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`cascade: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const server = await startServer(config, { logger });

  const lines = [
    '',
    `Cascade is listening on ${server.url}`,
    `  store:   ${server.store.dialect === 'sqlite' ? `SQLite in ${config.dataDir}` : 'PostgreSQL (DATABASE_URL)'}`,
  ];
  if (server.apiKey.origin === 'environment') {
    lines.push('  API key: from API_KEY');
  } else {
    lines.push(`  API key: ${server.apiKey.key}  (stored in ${server.apiKey.file})`);
  }
  lines.push(`  admin API: ${config.adminKey === null ? 'off (set ADMIN_KEY to manage spaces and keys)' : 'on (/v1/admin, key from ADMIN_KEY)'}`);
  if (server.sandbox.smsc) lines.push(`  sandbox SMSC (SMPP): 127.0.0.1:${server.sandbox.smsc.port}`);
  if (server.sandbox.smtp) lines.push(`  sandbox SMTP relay:  127.0.0.1:${server.sandbox.smtp.port}`);
  if (server.sandbox.graph) lines.push(`  sandbox Graph API (WhatsApp, Messenger): ${server.sandbox.graph.url}`);
  lines.push(`  channels: ${[...server.channels.keys()].join(', ') || 'none'}`, '');
  process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'signal received');
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    process.stderr.write(`cascade: start-up failed: ${(error as Error).message}. Set PORT (and HOST) to a free address.\n`);
  } else if (error instanceof SecretBoxError || (error instanceof Error && error.message.includes('encryption-key is empty'))) {
    process.stderr.write(`cascade: start-up failed: ${error.message}\n`);
  } else if (error instanceof Error && error.message.startsWith('Could not open PostgreSQL')) {
    // The cause is the driver's error, such as a refused connection or a failed login; it never contains the password.
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    process.stderr.write(`cascade: start-up failed: ${error.message}${cause}\n`);
  } else {
    process.stderr.write(`cascade: start-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});
