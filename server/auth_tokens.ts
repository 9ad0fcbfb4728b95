/**
 * The bearer tokens a server accepts, read from a file (never from the
 * command line, where `ps` would show them) and checked in constant time:
 * every presented token is hashed to a SHA-256 digest and compared with
 * every accepted digest by `timingSafeEqual`, so neither the length nor the
 * first differing byte of a guess shows in the response time. Only the
 * digests are kept in memory.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
import { ConfigError } from "./config.ts";

/** Accepted bearer tokens. */
export interface AuthTokens {
  /** How many tokens are accepted. */
  readonly size: number;
  /**
   * Checks an `authorization` metadata value.
   *
   * @param authorization the value, `Bearer <token>`; `undefined` when absent
   * @returns whether it names an accepted token
   */
  verify(authorization: string | undefined): boolean;
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function digest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/**
 * Builds the accepted set from tokens.
 *
 * @param tokens the accepted tokens, at least one, without white space
 * @returns the set
 * @throws {RangeError} for no tokens, or a token that is empty or holds white space
 *
 * @example
 * ```ts
 * const tokens = createAuthTokens(["s3cret"]);
 * tokens.verify("Bearer s3cret"); // true
 * ```
 */
export function createAuthTokens(tokens: readonly string[]): AuthTokens {
  if (tokens.length === 0) {
    throw new RangeError("Cannot accept bearer tokens: none given");
  }
  for (const [n, token] of tokens.entries()) {
    if (!/^\S+$/.test(token)) {
      throw new RangeError(
        `Cannot accept bearer token ${n + 1}: it is empty or holds white space`,
      );
    }
  }
  const digests = tokens.map(digest);
  return {
    size: digests.length,
    verify(authorization) {
      const token = authorization === undefined
        ? undefined
        : BEARER.exec(authorization)?.[1];
      // A missing token is still hashed and compared, so that its answer
      // takes as long as a wrong one's.
      const presented = digest(token ?? "");
      let accepted = false;
      for (const d of digests) {
        accepted = timingSafeEqual(presented, d) || accepted;
      }
      return accepted && token !== undefined;
    },
  };
}

/**
 * Reads the accepted tokens from a file: one per line; blank lines and lines
 * starting with `#` are skipped, surrounding white space is trimmed.
 *
 * @param path the file (`--auth-token-file`)
 * @returns the accepted set
 * @throws {ConfigError} when the file cannot be read or holds no valid token
 */
export async function loadAuthTokens(path: string): Promise<AuthTokens> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new ConfigError(
      `Cannot read --auth-token-file "${path}": ${(err as Error).message}`,
    );
  }
  const tokens = text.split(/\r?\n/).map((line) => line.trim()).filter((
    line,
  ) => line !== "" && !line.startsWith("#"));
  try {
    return createAuthTokens(tokens);
  } catch (err) {
    throw new ConfigError(
      `Cannot use --auth-token-file "${path}": ${(err as Error).message}`,
    );
  }
}
