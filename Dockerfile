# syntax=docker/dockerfile:1
# KubeMedic's image: the worker (the default) and the policy watcher, as the Helm chart runs them:
#   args ["worker/main.ts"] or ["policy-watcher/main.ts"].
#
# No compile step, on purpose: the code is ESM TypeScript run by tsx (a production dependency),
# exactly as in development and in the tests. A tsc build to dist/ would not remove the need for
# the sources: the worker bundles workflows/ from its .ts files when it starts.
# The kubemedic CLI is not in the image (it runs on an operator's machine with the repository).

FROM node:20.20-bookworm-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; the Temporal core bridge ships prebuilt for linux-x64 and arm64.
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20.20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY api ./api
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY policy-watcher ./policy-watcher
# A numeric non-root user, so runAsNonRoot can verify it; the chart mounts an emptyDir on /tmp
# (tsx's cache) and keeps the root file system read-only.
USER 10001:10001
EXPOSE 9464 9465 8091
ENTRYPOINT ["node", "--import", "tsx"]
CMD ["worker/main.ts"]
