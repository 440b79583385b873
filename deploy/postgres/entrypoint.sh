#!/bin/sh
# PostgreSQL's container with TLS (deploy/runbook.md, "TLS"): the server's certificate
# and key arrive as secrets and are copied where the postgres user owns them (PostgreSQL
# refuses a key others may read); deploy/postgres/pg_hba.conf lets clients in over TLS
# only. The image's own entrypoint then initialises and starts the server.
set -eu
tls=/var/lib/postgresql/tls
mkdir -p "$tls"
cp /run/secrets/postgres_tls_cert "$tls/server.pem"
cp /run/secrets/postgres_tls_key "$tls/server.key"
chmod 644 "$tls/server.pem"
chmod 600 "$tls/server.key"
if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$tls"; fi
exec docker-entrypoint.sh postgres -c ssl=on -c "ssl_cert_file=$tls/server.pem" \
  -c "ssl_key_file=$tls/server.key" -c ssl_min_protocol_version=TLSv1.2 \
  -c hba_file=/samspil/pg_hba.conf
