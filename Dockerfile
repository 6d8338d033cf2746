# syntax=docker/dockerfile:1
# meshrasp: the ext_proc server image. Build from the repository root:
#   docker build -t meshrasp:dev .
# The runtime image is one layer on `scratch`: Node's binary and the shared libraries it loads, and
# the app with its production packages; no shell, compiler or package manager. It runs as a
# non-root user and works with a read-only root filesystem (give it a small tmpfs on /tmp).
# Node 22, supported until 2027-04; Node 20 reached its end of life on 2026-04-30. .ci/run runs the
# whole test suite on this release line too (IMAGE_NODE_VERSION), and a test holds the two together.
ARG NODE_VERSION=22.23

FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /app
# Dependencies in their own layer, reused until the lockfile changes: re2 is compiled from
# source (python3, make and g++ come with this image) and that takes about a minute.
# Scripts are off because `prepare` would build sources not copied yet and the dev tools'
# installers (buf, ssh2) are not needed; re2, the one native addon, is then built explicitly.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild re2
COPY tsconfig.json tsconfig.build.json ./
COPY protos/generated ./protos/generated
COPY ext-proc ./ext-proc
COPY scripts/assemble-runtime-root.mjs scripts/build-only-packages.mjs ./scripts/
# The runtime image's whole root filesystem, in /rootfs: what goes in, and why, is described at
# the top of scripts/assemble-runtime-root.mjs.
RUN npm run build \
 && node scripts/assemble-runtime-root.mjs /rootfs

FROM scratch AS runtime
# Owned by root and writable by root alone: the runtime user cannot change the code.
COPY --from=build /rootfs /
ENV NODE_ENV=production
WORKDIR /app
# meshrasp in the image's /etc/passwd; numeric so that Kubernetes can verify runAsNonRoot.
USER 1000:1000
EXPOSE 50051 9464
# Node's fetch, since the image has no curl. Follows MESHRASP_ADMIN's port when it is set.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["/usr/local/bin/node", "-e", "const a=process.env.MESHRASP_ADMIN||'0.0.0.0:9464';fetch('http://127.0.0.1:'+a.slice(a.lastIndexOf(':')+1)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/local/bin/node", "dist/ext-proc/src/cli/main.js"]
CMD ["serve"]
