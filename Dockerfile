# syntax=docker/dockerfile:1
# KubeMedic's image: the worker (the default) and the policy watcher, as the Helm chart runs them:
#   args ["dist/worker/main.js"] or ["dist/policy-watcher/main.js"].
#
# Built JavaScript, run by plain node: `npm run build:processes` (worker/build.ts) bundles each
# process's code with esbuild and prebuilds the workflow bundle, so nothing is compiled when a
# Pod starts (no tsx, no webpack): faster starts and less memory (bench/process-start.ts).
# The kubemedic CLI is not in the image (it is its own npm package: npm run build:cli).

FROM node:24.22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY api ./api
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY policy-watcher ./policy-watcher
RUN npm run build:processes

FROM node:24.22-bookworm-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; the Temporal core bridge ships prebuilt for linux-x64 and arm64.
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24.22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist/worker ./dist/worker
COPY --from=build /app/dist/policy-watcher ./dist/policy-watcher
# A numeric non-root user, so runAsNonRoot can verify it; the root file system stays read-only.
USER 10001:10001
EXPOSE 9464 9465 8091
ENTRYPOINT ["node"]
CMD ["dist/worker/main.js"]
