#!/usr/bin/env bash
# Make sure the local RabbitMQ (with its management API) and PostgreSQL answer,
# starting them on this machine if they are installed but stopped. Used by
# `make test` and .ci/run. Does nothing to services that already run.
set -u
rabbit_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
rabbit_api_up() { curl -sf -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null 2>&1; }
pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

wait_for() {  # wait_for <what> <check> <seconds>
  local what=$1 check=$2 seconds=$3
  for _ in $(seq "$seconds"); do $check && return 0; sleep 1; done
  echo "ensure-services: $what did not come up within ${seconds}s" >&2
  return 1
}

status=0
if ! rabbit_up; then
  if command -v rabbitmq-server >/dev/null; then
    echo "ensure-services: starting RabbitMQ (rabbitmq-server -detached)"
    rabbitmq-server -detached
    wait_for RabbitMQ rabbit_up 90 || status=1
  else
    echo "ensure-services: RabbitMQ does not answer on 127.0.0.1:5672 and is not installed here;" \
         "set SAMSPIL_TEST_AMQP_URI / SAMSPIL_TEST_RABBIT_API, or run with Docker." >&2
    status=1
  fi
fi
if rabbit_up && ! rabbit_api_up && command -v rabbitmq-plugins >/dev/null; then
  echo "ensure-services: enabling the RabbitMQ management plugin (tests use its HTTP API)"
  rabbitmq-plugins enable rabbitmq_management >/dev/null
  wait_for "RabbitMQ management API" rabbit_api_up 60 || status=1
fi
if ! pg_up; then
  if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null; then
    echo "ensure-services: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    wait_for PostgreSQL pg_up 60 || status=1
  else
    echo "ensure-services: PostgreSQL does not answer on 127.0.0.1:5432 and is not installed here;" \
         "set SAMSPIL_TEST_PG_URL, or run with Docker." >&2
    status=1
  fi
fi
[ $status -eq 0 ] && echo "ensure-services: RabbitMQ and PostgreSQL answer"
exit $status
