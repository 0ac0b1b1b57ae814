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
EXPOSE 4000
VOLUME ["/backups"]
CMD ["pnpm", "--filter", "@pgbs/server", "start"]
