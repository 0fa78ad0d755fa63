# syntax=docker/dockerfile:1
# crowdpulse: one image, the role is the argument:
#   docker run crowdpulse run | ingest | analyze | store | dashboard [flags]
# Node 24 LTS: its npm (11) honours package.json "allowScripts" (onnxruntime-node's postinstall,
# which downloads GPU add-ons, stays denied; the CPU runtime is inside the package).
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
# Toolchain for the native modules (node-rdkafka compiles librdkafka, better-sqlite3 may compile
# SQLite); libzstd/libsasl2/libssl headers give librdkafka zstd, SASL and TLS.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ libzstd-dev libsasl2-dev libssl-dev ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# The same install command as CI (.ci/run), then drop the dev dependencies from the image.
RUN npm ci --no-audit --no-fund
RUN npm prune --omit=dev --no-audit --no-fund
# What runs is the compiled add-ons and librdkafka's shared libraries: drop their sources, object
# files and static archives, and onnxruntime-node's binaries for other platforms (~750 MB of 900),
# then load every native module once so that a broken one fails the build.
RUN cd node_modules \
 && rm -rf node-rdkafka/deps node-rdkafka/src better-sqlite3/deps better-sqlite3/src \
 && find node-rdkafka/build better-sqlite3/build -depth \( -name obj -o -name obj.target -o -name .deps \
      -o -name include -o -name share -o -name pkgconfig \) -exec rm -rf {} + \
 && find node-rdkafka/build better-sqlite3/build -type f ! -name '*.node' ! -name '*.so' ! -name '*.so.*' -delete \
 && rm -f better-sqlite3/build/Release/test_extension.node \
 && platform="$(node -p 'process.platform + "/" + process.arch')" \
 && for dir in onnxruntime-node/bin/napi-v*/*/*; do \
      case "$dir" in */"$platform") ;; *) rm -rf "$dir" ;; esac; \
    done \
 && find onnxruntime-node/bin -type d -empty -delete \
 && node -e "require('node-rdkafka'); new (require('better-sqlite3'))(':memory:').close(); require('onnxruntime-node')"
COPY tsconfig.json ./
COPY bin/ bin/
COPY src/ src/
COPY workers/ workers/
COPY models/ models/
COPY bench/fixtures/posts.ndjson.gz bench/fixtures/posts.manifest.json bench/fixtures/
# Fail the build, not the first pod, when a model the roles load by default is missing.
RUN test -f models/fast/model.json \
 && chmod 0755 bin/crowdpulse.js

FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libzstd1 libsasl2-2 libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 crowdpulse \
 && useradd --uid 10001 --gid crowdpulse --no-create-home --shell /usr/sbin/nologin crowdpulse \
 && mkdir -p /var/lib/crowdpulse \
 && chown crowdpulse:crowdpulse /var/lib/crowdpulse
WORKDIR /app
COPY --from=build /app /app
RUN ln -s /app/bin/crowdpulse.js /usr/local/bin/crowdpulse
# HOME: the user has no home directory and the root filesystem is read-only; onnxruntime keeps a
# telemetry id under HOME, and /tmp is writable (a tmpfs or an emptyDir) wherever the image runs.
ENV NODE_ENV=production \
    HOME=/tmp \
    CROWDPULSE_HTTP_HOST=0.0.0.0 \
    CROWDPULSE_HTTP_PORT=9464 \
    CROWDPULSE_LOG_PROGRESS=lines \
    CROWDPULSE_SQLITE_PATH=/var/lib/crowdpulse/crowdpulse.db \
    CROWDPULSE_DEAD_LETTER_PATH=/var/lib/crowdpulse/dead-letters.ndjson \
    CROWDPULSE_X_STATE_PATH=/var/lib/crowdpulse/x-governor.json
VOLUME ["/var/lib/crowdpulse"]
EXPOSE 9464
USER 10001:10001
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.CROWDPULSE_HTTP_PORT || 9464) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node runs as PID 1 and handles SIGTERM itself (the roles drain in-flight batches, then exit);
# inference workers are threads, so there are no child processes to reap.
ENTRYPOINT ["crowdpulse"]
CMD ["run"]
