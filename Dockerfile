# rnn-explain server image: the same command and permissions as
# `deno task start`, as a non-root user, listening on all interfaces.
FROM denoland/deno:2.9.6

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
RUN deno install --frozen-lockfile --entrypoint server/main.ts \
  && mkdir -p data/checkpoints

ENV RNN_EXPLAIN_HOST=0.0.0.0 \
    RNN_EXPLAIN_PORT=50051
EXPOSE 50051

# The image's entrypoint runs `deno` with these arguments; `deno task start`
# forwards SIGTERM to the server, which drains before exiting. Probe it with
# the standard gRPC health check (for example a Kubernetes grpc probe).
CMD ["task", "start"]
