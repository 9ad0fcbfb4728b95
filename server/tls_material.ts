/**
 * Reads and checks the server's TLS files at start-up, so that an unreadable
 * file, a file that is not PEM of the expected kind, or a key that does not
 * belong to the certificate stops the server with a clear message instead
 * of failing every handshake later. `main.ts` turns the result into grpc-js
 * credentials (this file does not import grpc-js).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { ConfigError, type TlsClientAuth } from "./config.ts";

/** The checked PEM bytes of the server's TLS set-up. */
export interface TlsMaterial {
  /** The certificate chain, server certificate first. */
  readonly certChain: Uint8Array;
  /** The private key of the first certificate. */
  readonly privateKey: Uint8Array;
  /** Authorities trusted to sign client certificates; `undefined` without mutual TLS. */
  readonly clientCa: Uint8Array | undefined;
  /** Whether a client must present a certificate signed by `clientCa`. */
  readonly requireClientCert: boolean;
  /** Subject and expiry of the server certificate, for the start-up log. */
  readonly summary: { subject: string; validTo: string };
}

/** Options of {@linkcode loadTlsMaterial}. */
export interface LoadTlsMaterialOptions {
  /** PEM certificate chain file (`--tls-cert`). */
  cert: string;
  /** PEM private key file (`--tls-key`). */
  key: string;
  /**
   * PEM file of client-certificate authorities (`--tls-ca`).
   * @default undefined
   */
  ca?: string | undefined;
  /**
   * Client-certificate policy (`--tls-client-auth`).
   * @default "none"
   */
  clientAuth?: TlsClientAuth;
}

/**
 * Reads the TLS files and checks that each is PEM of the expected kind and
 * that the key belongs to the first certificate.
 *
 * @param options the file paths and the client-certificate policy
 * @returns the PEM bytes for the server credentials
 * @throws {ConfigError} for an unreadable file, a file of the wrong kind, or a key that does not match the certificate
 *
 * @example
 * ```ts
 * const tls = await loadTlsMaterial({ cert: "server.crt", key: "server.key" });
 * console.log(tls.summary.subject);
 * ```
 */
export async function loadTlsMaterial(
  options: LoadTlsMaterialOptions,
): Promise<TlsMaterial> {
  const certChain = await readPem(options.cert, "--tls-cert");
  const privateKey = await readPem(options.key, "--tls-key");
  const clientCa = options.ca === undefined
    ? undefined
    : await readPem(options.ca, "--tls-ca");
  const cert = parseCertificate(certChain, options.cert, "--tls-cert");
  let key;
  try {
    key = createPrivateKey({ key: toBuffer(privateKey), format: "pem" });
  } catch (err) {
    throw new ConfigError(
      `Cannot use --tls-key "${options.key}": not a PEM private key (${
        (err as Error).message
      })`,
    );
  }
  if (!cert.checkPrivateKey(key)) {
    throw new ConfigError(
      `Cannot use --tls-key "${options.key}": it does not belong to the certificate in --tls-cert "${options.cert}"`,
    );
  }
  if (clientCa !== undefined) {
    parseCertificate(clientCa, options.ca!, "--tls-ca");
  }
  return {
    certChain,
    privateKey,
    clientCa,
    requireClientCert: options.clientAuth === "require",
    summary: { subject: cert.subject, validTo: cert.validTo },
  };
}

async function readPem(path: string, flag: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    throw new ConfigError(
      `Cannot read ${flag} "${path}": ${(err as Error).message}`,
    );
  }
  if (!new TextDecoder().decode(bytes).includes("-----BEGIN ")) {
    throw new ConfigError(`Cannot use ${flag} "${path}": not a PEM file`);
  }
  return bytes;
}

/** Parses the first certificate of a PEM bundle. */
function parseCertificate(
  pem: Uint8Array,
  path: string,
  flag: string,
): X509Certificate {
  try {
    return new X509Certificate(toBuffer(pem));
  } catch (err) {
    throw new ConfigError(
      `Cannot use ${flag} "${path}": not a PEM certificate (${
        (err as Error).message
      })`,
    );
  }
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
