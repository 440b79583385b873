#!/bin/sh
# First install: make every secret deploy/compose.yaml mounts, in deploy/secrets/ (one
# file each, readable by the owner only; git ignores them). Existing files are kept, so
# running it again never rotates a key by accident (deploy/runbook.md says how to rotate).
#   deploy/make-secrets.sh [DIR]
set -eu
dir=${1:-$(dirname "$0")/secrets}
mkdir -p "$dir"
umask 077
python=${PYTHON:-python3}
random() { "$python" -c 'import secrets; print(secrets.token_urlsafe(32))'; }
put() {  # put NAME VALUE: write the secret unless it exists
  if [ ! -e "$dir/$1" ]; then printf '%s' "$2" > "$dir/$1"; echo "made $dir/$1"; fi
}
put CPR_HASH_KEY "$(random)$(random)"
put CPR_ENCRYPTION_KEY "$("$python" -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')"
put OIDC_CLIENT_SECRET "$(random)"
put WEBHOOK_SECRET_ENCRYPTION_KEY "$("$python" -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')"
put rabbitmq_admin_user "samspil-admin"
put rabbitmq_admin_password "$(random)"
put postgres_password "$(random)"
pg=$(cat "$dir/postgres_password")
for service in intake coordination housing notifications partners gateway; do
  put "broker_$service" "$(random)"
  upper=$(echo "$service" | tr 'a-z' 'A-Z')
  put "${upper}_DATABASE_URL" "postgresql://postgres:$pg@postgres/$service?sslmode=verify-full&sslrootcert=/run/secrets/tls_ca"
done
put broker_operator "$(random)"

# TLS (deploy/runbook.md, "TLS"): a CA of this install and the server certificates of
# RabbitMQ and PostgreSQL, for the names the containers reach them by. To use the
# municipality's CA instead, put its certificate in tls_ca and the servers' certificates
# and keys in rabbitmq_tls_cert, rabbitmq_tls_key, postgres_tls_cert and postgres_tls_key
# before running this. The CA's key (tls_ca_key) is mounted nowhere.
if [ ! -e "$dir/tls_ca" ]; then
  openssl req -x509 -new -nodes -newkey rsa:3072 -sha256 -days 3650 -subj "/CN=Samspil CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/tls_ca_key" -out "$dir/tls_ca" 2>/dev/null
  echo "made $dir/tls_ca"
fi
server_cert() {  # server_cert NAME HOST: NAME_tls_cert and NAME_tls_key for HOST
  [ -e "$dir/$1_tls_cert" ] && return 0
  if [ ! -e "$dir/tls_ca_key" ]; then
    echo "$dir/$1_tls_cert is missing and tls_ca is not this script's CA: put the" \
         "certificate and key for $2 there" >&2
    exit 1
  fi
  printf 'basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' \
    "$2" > "$dir/$1.ext"
  openssl req -new -nodes -newkey rsa:2048 -sha256 -subj "/CN=$2" -keyout "$dir/$1_tls_key" \
    -out "$dir/$1.csr" 2>/dev/null
  openssl x509 -req -sha256 -days 825 -in "$dir/$1.csr" -CA "$dir/tls_ca" -CAkey "$dir/tls_ca_key" \
    -set_serial "0x$(openssl rand -hex 16)" -extfile "$dir/$1.ext" -out "$dir/$1_tls_cert" 2>/dev/null
  rm -f "$dir/$1.csr" "$dir/$1.ext"
  echo "made $dir/$1_tls_cert"
}
server_cert rabbitmq rabbitmq
server_cert postgres postgres
chmod 644 "$dir/tls_ca" "$dir/rabbitmq_tls_cert" "$dir/postgres_tls_cert"  # public
