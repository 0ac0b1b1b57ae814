# The service: Node 20 plus Debian 12's PostgreSQL 15 client tools (pg_dump must be >= the server).
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-15 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN npm install --global pnpm@10.34.8
WORKDIR /app
COPY . .
RUN pnpm install --frozen-lockfile
ENV NODE_ENV=production
EXPOSE 4000
CMD ["pnpm", "start"]
