# oss-download-service: build with dev dependencies, run with production ones only.
#
# Node 24: supported (maintenance LTS) until April 2028, the longest of the LTS lines; 22 ends in
# April 2027, 20 ended in April 2026. The tests run on Node 20 (package.json engines ">=20"), not on
# 24: check a new image with its HEALTHCHECK before rolling it out. koffi binds through Node-API,
# whose ABI holds across Node lines, so its prebuilt binary is the same on 20 and 24.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY routes ./routes
RUN npm run build

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    DOWNLOAD_ROOT=/data/downloads
WORKDIR /app
COPY package.json package-lock.json ./
# koffi ships a prebuilt binary for every platform (about 28 MiB); keep this one's (1.6 MiB). It binds
# liblzma.so.5 (package liblzma5, already in the bookworm image) for the fast CRC-64 (src/crc64-native.ts).
RUN npm ci --omit=dev --no-audit --no-fund && npm run prune:koffi && npm cache clean --force
COPY --from=build /app/dist ./dist
# Downloads go to a volume; the root filesystem can be mounted read-only.
# DOWNLOAD_ROOT must be the service's own and not writable by group or others (checked at start).
RUN mkdir -p /data/downloads && chown -R node:node /data && chmod 0750 /data/downloads
VOLUME ["/data/downloads"]
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "require('http').get('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]
# node directly, not npm: SIGTERM reaches the process and starts the drain.
CMD ["node", "dist/src/server.js"]
