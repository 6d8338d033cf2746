# syntax=docker/dockerfile:1
# meshrasp: the ext_proc server image. Build from the repository root:
#   docker build -t meshrasp:dev .
# Runs as a non-root user and works with a read-only root filesystem (give it a small tmpfs on
# /tmp for scratch space), with no compiler or package manager in the final image.
ARG NODE_VERSION=20.19

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
COPY scripts/prune-build-only.mjs ./scripts/prune-build-only.mjs
# re2 keeps its vendored sources and ~70 MB of compiler output next to the addon: only the addon
# is loaded at run time, and its debug symbols (about 20 MB) are not needed either. What only
# builds the addon (node-gyp's tree, nan) goes too: node_modules 40 -> 30 MiB.
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && node scripts/prune-build-only.mjs \
 && rm -rf node_modules/re2/vendor node_modules/re2/build/Release/obj.target node_modules/re2/build/Release/.deps \
 && strip --strip-debug node_modules/re2/build/Release/re2.node

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# npm, npx, corepack and yarn are never used at run time; without them the image has less to patch.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn \
      /usr/local/bin/yarnpkg /opt/yarn-*
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and not writable by the runtime user: the code cannot be changed in place.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/ext-proc/rules ./ext-proc/rules
COPY --from=build /app/ext-proc/policies ./ext-proc/policies
# The image's `node` user; numeric so that Kubernetes can verify runAsNonRoot.
USER 1000:1000
EXPOSE 50051 9464
# Node's fetch, since the image has no curl. Follows MESHRASP_ADMIN's port when it is set.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "const a=process.env.MESHRASP_ADMIN||'0.0.0.0:9464';fetch('http://127.0.0.1:'+a.slice(a.lastIndexOf(':')+1)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/ext-proc/src/cli/main.js"]
CMD ["serve"]
