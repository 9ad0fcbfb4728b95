/**
 * The one place that loads OpenBLAS through Deno FFI (`Deno.dlopen`). It sits
 * behind `models/backend.ts`: library code never calls it, and loading a
 * shared library is the backend module's business, not data I/O.
 *
 * @module
 */

/** Thrown when OpenBLAS cannot be used: FFI is not permitted or the library is absent. */
export class BlasUnavailableError extends Error {
  /** Creates the error with a message saying why BLAS is unavailable. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BlasUnavailableError";
  }
}

/** Where Debian and Ubuntu's `libopenblas0` put the library, then the loader's search path. */
export const OPENBLAS_PATHS: readonly string[] = [
  "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
  "libopenblas.so.0",
];

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32", // order
      "i32", // transA
      "i32", // transB
      "i32", // m
      "i32", // n
      "i32", // k
      "f32", // alpha
      "buffer", // a
      "i32", // lda
      "buffer", // b
      "i32", // ldb
      "f32", // beta
      "buffer", // c
      "i32", // ldc
    ],
    result: "void",
  },
  openblas_set_num_threads: { parameters: ["i32"], result: "void" },
  openblas_get_num_threads: { parameters: [], result: "i32" },
} as const;

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

/** A loaded OpenBLAS: single-precision GEMM and its thread count. */
export interface OpenBlas {
  /** The path the library was loaded from. */
  readonly path: string;
  /**
   * Row-major `C = alpha · op(A) · op(B) + beta · C` (cblas_sgemm), where
   * op(A) is M×K, op(B) is K×N and C is M×N. The arrays may be views into
   * any ArrayBuffer (including a WebAssembly heap); the call reads and
   * writes through their start pointers.
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;
  /** Sets the number of threads OpenBLAS uses for each call. */
  setThreads(threads: number): void;
  /** The number of threads OpenBLAS uses now. */
  threads(): number;
  /** Unloads the library; later calls fail. */
  close(): void;
}

function ffiPermitted(): boolean {
  try {
    return Deno.permissions.querySync({ name: "ffi" }).state === "granted";
  } catch {
    return false;
  }
}

/**
 * Loads OpenBLAS from the first of `paths` that opens.
 *
 * @param paths library paths to try in order
 * @returns the loaded library
 * @throws {BlasUnavailableError} when FFI is not permitted or no path opens
 */
export function openOpenBlas(
  paths: readonly string[] = OPENBLAS_PATHS,
): OpenBlas {
  if (typeof Deno?.dlopen !== "function" || !ffiPermitted()) {
    throw new BlasUnavailableError(
      "Cannot load OpenBLAS: FFI is not permitted (run with --allow-ffi)",
    );
  }
  const failures: string[] = [];
  for (const path of paths) {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = Deno.dlopen(path, SYMBOLS);
    } catch (err) {
      failures.push(`"${path}" (${(err as Error).message})`);
      continue;
    }
    return wrap(path, lib);
  }
  throw new BlasUnavailableError(
    `Cannot load OpenBLAS: no library opened: ${failures.join("; ")}`,
  );
}

function wrap(
  path: string,
  lib: Deno.DynamicLibrary<typeof SYMBOLS>,
): OpenBlas {
  const s = lib.symbols;
  return {
    path,
    sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
      s.cblas_sgemm(
        ROW_MAJOR,
        transA ? TRANS : NO_TRANS,
        transB ? TRANS : NO_TRANS,
        m,
        n,
        k,
        alpha,
        a,
        lda,
        b,
        ldb,
        beta,
        c,
        ldc,
      );
    },
    setThreads(threads) {
      if (!Number.isInteger(threads) || threads < 1) {
        throw new RangeError(
          `Cannot set OpenBLAS threads: ${threads} is not a positive integer`,
        );
      }
      s.openblas_set_num_threads(threads);
    },
    threads: () => s.openblas_get_num_threads(),
    close: () => lib.close(),
  };
}
