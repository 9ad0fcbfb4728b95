/**
 * Opaque page tokens of the registry's listings: the insertion sequence of
 * the last item returned, as base64url JSON, so that a page stays stable
 * while newer rows are added.
 *
 * @module
 */

/** The largest page a listing returns. */
export const MAX_PAGE_SIZE = 1000;
/** The page size used when none (or 0) is given. */
export const DEFAULT_PAGE_SIZE = 100;

/**
 * Encodes the position after an item.
 *
 * @param kind what is listed (`models`, `jobs`), so tokens cannot be mixed up
 * @param seq the insertion sequence of the page's last item
 * @returns the token
 */
export function encodePageToken(kind: string, seq: number): string {
  const text = JSON.stringify({ k: kind, s: seq });
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(
    /=+$/,
    "",
  );
}

/**
 * Decodes a page token.
 *
 * @param kind what is listed; a token of another listing is refused
 * @param token the token; `""` means the first page
 * @returns the sequence to continue below, or `undefined` for the first page
 * @throws {RangeError} if the token is malformed or belongs to another listing
 */
export function decodePageToken(
  kind: string,
  token: string,
): number | undefined {
  if (token === "") return undefined;
  let value: unknown;
  try {
    const base64 = token.replaceAll("-", "+").replaceAll("_", "/");
    value = JSON.parse(atob(base64));
  } catch (err) {
    throw new RangeError(
      `Cannot list ${kind}: page token ${JSON.stringify(token)} is malformed`,
      { cause: err },
    );
  }
  const { k, s } = (value ?? {}) as { k?: unknown; s?: unknown };
  if (k !== kind || typeof s !== "number" || !Number.isSafeInteger(s)) {
    throw new RangeError(
      `Cannot list ${kind}: page token ${
        JSON.stringify(token)
      } does not belong to this listing`,
    );
  }
  return s;
}

/**
 * Checks a page size.
 *
 * @param kind what is listed, for the message
 * @param pageSize the requested size; `undefined` or 0 means the default
 * @returns the size to use
 * @throws {RangeError} if it is not an integer in [0, 1000]
 */
export function resolvePageSize(
  kind: string,
  pageSize: number | undefined,
): number {
  const size = pageSize ?? 0;
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE_SIZE) {
    throw new RangeError(
      `Cannot list ${kind}: page size must be an integer in [0, ${MAX_PAGE_SIZE}]: got ${size}`,
    );
  }
  return size === 0 ? DEFAULT_PAGE_SIZE : size;
}
