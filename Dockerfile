# The gbcms server. Built from the packed package, so the image runs exactly what npm ships:
#   npm pack
#   docker build --build-arg GBCMS_VERSION=0.1.0 -t gbcms:0.1.0 .
# Run it with the host's Docker socket and the socket's group (see README, "Deploy"):
#   docker run -d --name gbcms -p 8080:8080 -v gbcms-data:/var/lib/gbcms \
#     -v /var/run/docker.sock:/var/run/docker.sock --group-add "$(stat -c %g /var/run/docker.sock)" gbcms:0.1.0
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS install
ARG GBCMS_VERSION
WORKDIR /opt/gbcms
COPY . /tmp/context/
# better-sqlite3 downloads its prebuilt binary for this Node, or compiles (python3, make, g++).
# A build context with prebuilds/ (a machine without GitHub access) supplies the binary instead.
RUN test -n "$GBCMS_VERSION" || { echo 'build with --build-arg GBCMS_VERSION=<the version of the packed gbcms-*.tgz>' >&2; exit 1; } \
 && test -f "/tmp/context/gbcms-$GBCMS_VERSION.tgz" || { echo "gbcms-$GBCMS_VERSION.tgz is not in the build context: run npm pack first" >&2; exit 1; } \
 && echo '{ "name": "gbcms-server", "private": true }' > package.json \
 && npm_config_better_sqlite3_local_prebuilds=/tmp/context/prebuilds \
    npm install --omit=dev --no-audit --no-fund --loglevel=error "/tmp/context/gbcms-$GBCMS_VERSION.tgz" \
 && test "$(node node_modules/gbcms/bin/gbcms.js --version)" = "$GBCMS_VERSION" \
 && rm -rf /tmp/context /root/.npm

FROM ${NODE_IMAGE}
ARG GBCMS_VERSION
LABEL org.opencontainers.image.title="gbcms" \
      org.opencontainers.image.description="gbcms CI server" \
      org.opencontainers.image.version="${GBCMS_VERSION}" \
      org.opencontainers.image.licenses="MIT"
# git fetches the projects' repositories. Debian-based images get it from apt; a base image
# without apt (the registry-free stand-in CI builds) runs without it.
RUN if command -v apt-get >/dev/null; then \
      apt-get update && apt-get install -y --no-install-recommends git ca-certificates && rm -rf /var/lib/apt/lists/*; \
    fi
COPY --from=install /opt/gbcms /opt/gbcms
# A fixed numeric user, not root: the operator grants it the Docker socket with --group-add
# (the socket's group id differs between hosts), and the data volume is owned by it.
RUN ln -s /opt/gbcms/node_modules/gbcms/bin/gbcms.js /usr/local/bin/gbcms \
 && mkdir -p /var/lib/gbcms && chown 10001:10001 /var/lib/gbcms
USER 10001:10001
ENV GBCMS_DATA=/var/lib/gbcms HOME=/var/lib/gbcms NODE_ENV=production
VOLUME /var/lib/gbcms
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["gbcms", "serve", "--host", "0.0.0.0", "--port", "8080"]
