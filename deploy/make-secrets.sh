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
  put "${upper}_DATABASE_URL" "postgresql://postgres:$pg@postgres/$service"
done
put broker_operator "$(random)"
