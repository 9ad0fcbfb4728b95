# rnn-explain server image (CPU): exactly `deno task start`, as a non-root
# user, listening on all interfaces. The GPU variant is Dockerfile.gpu; see
# docs/deployment.md for both and for Kubernetes (deploy/k8s/).
FROM denoland/deno:2.9.6

# OpenBLAS for the `blas` backend (`deno task start` passes --allow-ffi);
# without it the server falls back to wasm.
RUN apt-get update \
  && apt-get install -y --no-install-recommends libopenblas0-pthread \
  && rm -rf /var/lib/apt/lists/*

WORKDIR /app
RUN chown deno:deno /app
USER deno

# Only what the server needs: the contract (reflection reads the .proto
# files at run time), models/ and server/. `deno install` fetches the npm
# packages locked in deno.lock into node_modules, so nothing is fetched at
# start-up.
COPY --chown=deno:deno deno.json deno.lock ./
COPY --chown=deno:deno proto/ proto/
COPY --chown=deno:deno models/ models/
COPY --chown=deno:deno server/ server/
# data/checkpoints: the store (mount a volume here); secrets/: TLS files and
# the token file (mount them here: `deno task start` may read only below
# /app and /usr/share/datasets).
RUN deno install --frozen-lockfile --entrypoint server/main.ts \
  && mkdir -p data/checkpoints secrets

ENV RNN_EXPLAIN_HOST=0.0.0.0 \
    RNN_EXPLAIN_PORT=50051
# 50051: gRPC. 9464: Prometheus /metrics, served when
# RNN_EXPLAIN_METRICS_PORT=9464 is set (off by default). 8081: plaintext
# gRPC health only, for probes, when RNN_EXPLAIN_HEALTH_PORT=8081 is set.
EXPOSE 50051 9464 8081

# The image's entrypoint runs `deno` with these arguments; `deno task start`
# forwards SIGTERM to the server, which drains before exiting. Probe it with
# the standard gRPC health check (for example a Kubernetes grpc probe).
CMD ["task", "start"]
