/** The file under review: embedded as data, so the demo needs nothing but the store. */
export const SOURCE_PATH = "src/net/retry.ts";

export const SOURCE = `import type { Logger } from "./logger.js";

export interface RetryOptions {
  retries: number;
  baseDelayMs: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls \`fn\` until it succeeds, waiting longer after each failure. */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions,
  log?: Logger,
): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt <= options.retries; attempt++) {
    if (options.signal?.aborted) {
      throw new Error("retry aborted");
    }
    try {
      return await fn(attempt);
    } catch (error) {
      lastError = error;
      const delay = Math.min(
        options.baseDelayMs * 2 ** attempt,
        options.maxDelayMs ?? Infinity,
      );
      log?.warn(\`attempt \${attempt + 1} failed, retrying in \${delay}ms\`);
      await sleep(delay);
    }
  }
  throw lastError;
}

export function isRetryable(status: number): boolean {
  return status === 429 || status >= 500;
}
`;

export const SOURCE_LINES: readonly string[] = SOURCE.replace(/\n$/, "").split("\n");
