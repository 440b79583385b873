#!/bin/sh
# RabbitMQ's container with its administrator's password from a secret (the image reads
# RABBITMQ_DEFAULT_USER/PASS only on the first start of an empty node). The services'
# own users come from deploy/rabbitmq/definitions.json, applied by the broker-setup job.
set -eu
RABBITMQ_DEFAULT_USER=$(cat /run/secrets/rabbitmq_admin_user)
RABBITMQ_DEFAULT_PASS=$(cat /run/secrets/rabbitmq_admin_password)
export RABBITMQ_DEFAULT_USER RABBITMQ_DEFAULT_PASS
exec docker-entrypoint.sh rabbitmq-server
