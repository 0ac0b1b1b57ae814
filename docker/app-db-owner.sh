#!/bin/sh
# Run once by the postgres image when app-db's data directory is new (docker-entrypoint-initdb.d).
# The application database belongs to "app", a login role that is no superuser: the backup service
# connects as it and restores with its rights, never more (docs/security.md, the owner connection).
# The password comes from the environment into psql, never onto a command line.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<'SQL'
\getenv app_password APP_DB_PASSWORD
CREATE ROLE app LOGIN PASSWORD :'app_password'
  NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE DATABASE workload_tracker OWNER app;
SQL
