import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Entry point of the app SDK, bundled for browsers. */
export const SDK_ENTRY = fileURLToPath(new URL('../../sdk/src/index.ts', import.meta.url));

export interface SdkBundle {
  /** ES module source for browsers. */
  code: string;
  /** Build time in milliseconds. */
  buildMs: number;
}

/** One build per process: every server started in it serves the same bundle. */
let cached: Promise<SdkBundle> | null = null;

/**
 * Returns the SDK bundled as one ES module for browsers, building it in memory on the first
 * call. A failed build is not cached, so the next call tries again.
 */
export function sdkBundle(): Promise<SdkBundle> {
  cached ??= buildSdkBundle().catch((error: unknown) => {
    cached = null;
    throw error;
  });
  return cached;
}

async function buildSdkBundle(): Promise<SdkBundle> {
  const started = performance.now();
  const result = await build({
    entryPoints: [SDK_ENTRY],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error(`esbuild produced no output for ${SDK_ENTRY}.`);
  return { code: output.text, buildMs: Math.round(performance.now() - started) };
}
