# The service: Node 24 LTS plus Debian 12's PostgreSQL 15 client tools (pg_dump must be >= the server's
# major version; for a newer server, install its client from the PostgreSQL apt repository).
FROM node:24-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-15 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN npm install --global pnpm@10.34.7
WORKDIR /app
COPY . .
# The admin panel is built once here, not at every start.
RUN pnpm install --frozen-lockfile && pnpm build
ENV NODE_ENV=production
# Inside a container the published port must reach the service: every interface of the container.
ENV HOST=0.0.0.0
# The service runs as the image's unprivileged "node" user (uid 1000), never root: it parses files
# from outside (uploads, objects from a destination) and runs pg_restore on them. /backups is made
# its own before VOLUME, so a new named volume is created with that owner; /app stays root's,
# read-only to the service. A volume created by an older image (owned by root) needs once:
#   docker compose run --rm --user root backup-service chown -R node:node /backups
RUN mkdir -p /backups/.uploads && chown -R node:node /backups && chmod 700 /backups
USER node
EXPOSE 4000
VOLUME ["/backups"]
CMD ["pnpm", "--filter", "@pgbs/server", "start"]
