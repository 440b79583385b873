#!/bin/sh
# The Samspil image's entrypoint. Each secret mounted in /run/secrets whose file name is
# an environment variable's name (CPR_HASH_KEY, INTAKE_DATABASE_URL, ...) becomes that
# variable, so the config files' ${NAME:default} pick it up and no secret sits in the
# image, the compose file or `docker inspect`. A service's broker password arrives as
# AMQP_PASSWORD and is joined with AMQP_USER, AMQP_HOST and AMQP_VHOST into AMQP_URI
# (AMQP_SCHEME=amqps for TLS, port 5671 unless AMQP_PORT says otherwise; deploy/runbook.md).
# Then `samspil` runs with the container's arguments.
set -eu
if [ -d /run/secrets ]; then
  for file in /run/secrets/*; do
    [ -f "$file" ] || continue
    name=$(basename "$file")
    case "$name" in
      ''|[0-9]*|*[!A-Z0-9_]*) continue ;;
    esac
    value=$(cat "$file")
    export "$name=$value"
  done
fi
if [ -n "${AMQP_PASSWORD:-}" ]; then
  scheme=${AMQP_SCHEME:-amqp}
  case "$scheme" in
    amqps) port=${AMQP_PORT:-5671} ;;
    *) port=${AMQP_PORT:-5672} ;;
  esac
  AMQP_URI="$scheme://${AMQP_USER:?AMQP_USER is not set}:${AMQP_PASSWORD}@${AMQP_HOST:-rabbitmq}:$port/${AMQP_VHOST:-samspil}"
  export AMQP_URI
fi
exec samspil "$@"
