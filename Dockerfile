# syntax=docker/dockerfile:1
# ferry service image: docker build -t ferry . && docker run -p 3001:3001 -v ferry-data:/var/lib/ferry ferry
ARG NODE_IMAGE=node:20-slim

# Installs from the lock file. better-sqlite3 normally downloads a prebuilt binary; the compiler
# lets node-gyp build it where none fits (another architecture or libc).
FROM ${NODE_IMAGE} AS deps-base
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./

FROM deps-base AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY machines ./machines
COPY src ./src
RUN npm run build

FROM deps-base AS prod-deps
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# The journal lives in /var/lib/ferry, owned by the user the service runs as and declared a volume, so
# that accepted tasks survive the container (test/operations/runtime-stage.test.ts checks this stage's
# contract: as an unprivileged user in a directory it cannot write, the service opens its journal here,
# accepts and becomes ready). /app itself stays root's and read-only to the service.
ENV NODE_ENV=production \
    FERRY_JOURNAL=sqlite:/var/lib/ferry/ferry.db \
    HOST=0.0.0.0 \
    PORT=3001
WORKDIR /app
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /var/lib/ferry && chown node:node /var/lib/ferry
VOLUME /var/lib/ferry
USER node
EXPOSE 3001
CMD ["node", "dist/src/cli/main.js", "serve"]
