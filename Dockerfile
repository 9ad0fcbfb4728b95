# rnn-explain server image: the same command and permissions as
# `deno task start`, as a non-root user, listening on all interfaces.
FROM denoland/deno:2.9.6

WORKDIR /app
RUN chown deno:deno /app
USER deno

# Dependencies first, so that code changes do not refetch them. Only the
# server's module graph is installed (no buf or ts-proto in the image).
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
