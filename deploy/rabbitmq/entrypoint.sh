#!/bin/sh
# RabbitMQ's container with its administrator's password from a secret (the image reads
# RABBITMQ_DEFAULT_USER/PASS only on the first start of an empty node). The services'
# own users come from deploy/rabbitmq/definitions.json, applied by the broker-setup job.
# TLS (deploy/rabbitmq/tls.conf): the server's certificate and key arrive as secrets and
# are copied where the rabbitmq user may read them, the key readable by it alone.
set -eu
RABBITMQ_DEFAULT_USER=$(cat /run/secrets/rabbitmq_admin_user)
RABBITMQ_DEFAULT_PASS=$(cat /run/secrets/rabbitmq_admin_password)
export RABBITMQ_DEFAULT_USER RABBITMQ_DEFAULT_PASS
tls=/var/lib/rabbitmq/tls
mkdir -p "$tls"
cp /run/secrets/tls_ca "$tls/ca.pem"
cp /run/secrets/rabbitmq_tls_cert "$tls/server.pem"
cp /run/secrets/rabbitmq_tls_key "$tls/server.key"
chmod 644 "$tls/ca.pem" "$tls/server.pem"
chmod 600 "$tls/server.key"
if [ "$(id -u)" = 0 ]; then chown -R rabbitmq:rabbitmq "$tls"; fi
exec docker-entrypoint.sh rabbitmq-server
