/**
 * Typed errors of checkpoint decoding. The server maps
 * {@linkcode CheckpointDataLossError} to DATA_LOSS and
 * {@linkcode CheckpointVersionError} to FAILED_PRECONDITION (the bytes may be
 * fine; this build cannot read them).
 *
 * @module
 */

/**
 * A checkpoint that is unreadable or corrupt: truncated or malformed
 * safetensors, a weights hash that does not match the manifest, or tensors
 * whose names or shapes do not fit the manifest's model spec.
 */
export class CheckpointDataLossError extends Error {
  /** @param message std-style: `Cannot load checkpoint: …` */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CheckpointDataLossError";
  }
}

/** A checkpoint manifest whose format version this build does not know. */
export class CheckpointVersionError extends Error {
  /** The version found in the manifest. */
  readonly version: unknown;

  /**
   * @param version the manifest's `formatVersion`
   * @param supported the versions this build reads
   */
  constructor(version: unknown, supported: readonly number[]) {
    super(
      `Cannot load checkpoint: format version ${
        JSON.stringify(version)
      } is not supported (this build reads version ${supported.join(", ")})`,
    );
    this.name = "CheckpointVersionError";
    this.version = version;
  }
}
