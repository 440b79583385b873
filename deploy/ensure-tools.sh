#!/bin/sh
# The deploy checks' tools: Debian's docker-compose (validates deploy/compose.yaml with
# `docker-compose config`; the docker client here has no compose plugin). Installs it
# when missing; exits non-zero with the reason when it cannot.
set -eu
if command -v docker-compose >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-tools: docker-compose is missing; install it: apt-get install -y docker-compose" >&2
  exit 1
fi
echo "ensure-tools: installing docker-compose (Debian)"
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >/dev/null
command -v docker-compose >/dev/null
