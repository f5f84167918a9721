#!/bin/sh
# Compose's Postgres, on its first start (docker-entrypoint-initdb.d): one login per service,
# palisade_<service>, with the password from <SERVICE>_DATABASE_PASSWORD. They own nothing and
# get no rights here: `palisade migrate`, run as the database owner, grants each one its own
# schema. Passwords go through psql variables, never into the SQL text.
set -eu
for service in identity authorization placement secrets devlink runtime_scheduler audit; do
  variable="$(echo "$service" | tr '[:lower:]' '[:upper:]')_DATABASE_PASSWORD"
  password="$(printenv "$variable")" || { echo "$variable is not set" >&2; exit 1; }
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v role="palisade_$service" -v password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD %L', :'role', :'password')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SQL
done
