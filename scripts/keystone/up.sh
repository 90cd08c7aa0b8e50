#!/usr/bin/env bash
# Start a real Keystone (Debian's Zed package) on 127.0.0.1 in a fresh state dir,
# create the test fixtures and write $KEYSTONE_DIR/fixtures.json + clouds.yaml.
# Env: KEYSTONE_DIR KEYSTONE_PORT KEYSTONE_TOKEN_EXPIRATION KEYSTONE_WORKERS
#      KEYSTONE_PASSWORD_HASH_ROUNDS KEYSTONE_ADMIN_PASSWORD KEYSTONE_PARENT_PID (see README.md)
# Prints the auth URL on stdout, progress and errors on stderr.
# Exit status: 0 ok, 98 the port is already in use, 1 any other failure.
set -euo pipefail

DIR=${KEYSTONE_DIR:-/tmp/keystone-test}
PORT=${KEYSTONE_PORT:-5000}
EXPIRATION=${KEYSTONE_TOKEN_EXPIRATION:-3600}
WORKERS=${KEYSTONE_WORKERS:-2}
HASH_ROUNDS=${KEYSTONE_PASSWORD_HASH_ROUNDS:-4}
ADMIN_PASSWORD=${KEYSTONE_ADMIN_PASSWORD:-admin-secret}
PARENT_PID=${KEYSTONE_PARENT_PID:-}
URL="http://127.0.0.1:$PORT"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "up.sh: $*" >&2; exit 1; }
port_in_use() { echo "up.sh: 127.0.0.1:$PORT is already in use ($*); pick another KEYSTONE_PORT" >&2; exit 98; }
log() { echo "up.sh: [$(since "$T0")s] $*" >&2; }
now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1f", e - s }'; }
T0=$(now)
# alive PID: running and not a zombie (reads /proc, so procps is not needed)
alive() { local s; s=$(sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$1/stat" 2>/dev/null) && [ -n "$s" ] && [ "$s" != Z ]; }
# listening PORT: anything accepts TCP connections on 127.0.0.1:PORT (HTTP or not;
# a plain curl would hang forever on a listener that never answers)
listening() { timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
# Arguments first, then tools: a bad argument is reported on any machine.
[[ "$PORT$EXPIRATION$WORKERS$HASH_ROUNDS" =~ ^[0-9]+$ ]] || die "numeric env vars expected"
[ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || die "KEYSTONE_PORT=$PORT is not a TCP port"
if [ -n "$PARENT_PID" ]; then
  [[ "$PARENT_PID" =~ ^[0-9]+$ ]] && alive "$PARENT_PID" || die "KEYSTONE_PARENT_PID=$PARENT_PID is not a running process"
fi
for c in keystone-manage uwsgi-core curl jq sqlite3; do
  command -v "$c" >/dev/null || die "'$c' not found: run install.sh first"
done

# --- fresh state dir (only ever wipe a dir that up.sh created) -------------------
if [ -f "$DIR/keystone.pid" ] && alive "$(cat "$DIR/keystone.pid")"; then
  die "already running (pid $(cat "$DIR/keystone.pid")); run down.sh first"
fi
if [ -d "$DIR" ] && [ ! -f "$DIR/.keystone-test" ] && [ -n "$(ls -A "$DIR")" ]; then
  die "$DIR is not empty and was not created by up.sh; refusing to wipe it"
fi
listening "$PORT" && port_in_use "something already listens on it"
rm -rf "$DIR" && mkdir -p "$DIR" && touch "$DIR/.keystone-test"
DIR=$(cd "$DIR" && pwd)
log "starting keystone on $URL (token expiration ${EXPIRATION}s) in $DIR"

cat > "$DIR/keystone.conf" <<EOF
[DEFAULT]
log_file = $DIR/keystone.log
[database]
connection = sqlite:///$DIR/keystone.db
sqlite_synchronous = false
[identity]
password_hash_rounds = $HASH_ROUNDS
[token]
provider = fernet
expiration = $EXPIRATION
[fernet_tokens]
key_repository = $DIR/fernet-keys
[fernet_receipts]
key_repository = $DIR/fernet-keys
[credential]
key_repository = $DIR/credential-keys
[auth]
methods = password,token,application_credential,totp
[oslo_policy]
policy_file = $DIR/policy.yaml
policy_dirs = $DIR/policy.d
EOF

# --- keystone-manage: keys, schema, admin/project/roles/region/identity endpoint --
km() { keystone-manage --config-file "$DIR/keystone.conf" "$@" >>"$DIR/keystone-manage.log" 2>&1 \
         || die "keystone-manage $1 failed; see $DIR/keystone-manage.log and $DIR/keystone.log"; }
OWNER=(--keystone-user "$(id -un)" --keystone-group "$(id -gn)")
km fernet_setup "${OWNER[@]}" & p1=$!
km credential_setup "${OWNER[@]}" & p2=$!
km db_sync & p3=$!
wait $p1 && wait $p2 && wait $p3 || exit 1
log "keys and database schema ready"
# WAL: Keystone leaves read transactions open until Python's GC runs; in the
# default rollback-journal mode they block every write ("database is locked").
sqlite3 "$DIR/keystone.db" 'PRAGMA journal_mode=WAL;' >/dev/null
km bootstrap --bootstrap-username admin --bootstrap-password "$ADMIN_PASSWORD" \
  --bootstrap-project-name admin --bootstrap-role-name admin \
  --bootstrap-service-name keystone --bootstrap-region-id RegionOne \
  --bootstrap-public-url "$URL/v3" --bootstrap-internal-url "$URL/v3" --bootstrap-admin-url "$URL/v3"
log "bootstrap done; starting uwsgi"

# --- uWSGI: HTTP router (keep-alive) in front of N single-threaded workers --------
# threads must stay at 1: Keystone's SQLite connections are not thread-safe.
# http-buffer-size: the router relays in buffer-sized writes; with the 4 KiB default,
# Nagle + delayed ACK add ~40 ms to responses > 4 KiB on reused connections.
cat > "$DIR/uwsgi.ini" <<EOF
[uwsgi]
plugins = python3,http
http = 127.0.0.1:$PORT
http-keepalive = 1
http-manage-expect = 1
http-buffer-size = 65536
wsgi-file = /usr/bin/keystone-wsgi-public
env = OS_KEYSTONE_CONFIG_DIR=$DIR
chdir = $DIR
master = true
lazy-apps = true
processes = $WORKERS
enable-threads = true
die-on-term = true
need-app = true
buffer-size = 65535
EOF
T_START=$(now)
setsid uwsgi-core --ini "$DIR/uwsgi.ini" >"$DIR/uwsgi.log" 2>&1 </dev/null &
pid=$!
echo "$pid" > "$DIR/keystone.pid"
# With KEYSTONE_PARENT_PID (the integration TestMain passes its own pid), a
# detached watchdog stops uwsgi's process group once that process is gone, even
# if it was SIGKILLed and never ran down.sh. It exits by itself after down.sh.
if [ -n "$PARENT_PID" ]; then
  setsid bash "$HERE/watchdog.sh" "$PARENT_PID" "$pid" >>"$DIR/watchdog.log" 2>&1 </dev/null &
fi
# from here on, a failure stops the server we started (by pid)
# (keeps up.sh's exit status: 98 must survive a kill of an already dead uwsgi)
trap 'rc=$?; [ $rc = 0 ] || { echo "up.sh: failed; stopping keystone pid $pid" >&2; kill -TERM "$pid" 2>/dev/null || true; }; exit $rc' EXIT
# uwsgi exits at once if it cannot bind (someone took the port after the check above).
bind_failed() { grep -q 'Address already in use' "$DIR/uwsgi.log" 2>/dev/null; }
ready() { curl --noproxy '*' -sf -m 5 "$URL/v3" 2>/dev/null | jq -e '.version.id | startswith("v3")' >/dev/null 2>&1; }
for _ in $(seq 1 600); do
  bind_failed && port_in_use "uwsgi could not bind it; see $DIR/uwsgi.log"
  alive "$pid" || break
  ready && break
  sleep 0.05
done
bind_failed && port_in_use "uwsgi could not bind it; see $DIR/uwsgi.log"
alive "$pid" || die "uwsgi exited; see $DIR/uwsgi.log and $DIR/keystone.log"
ready || die "not ready after 30s; see $DIR/uwsgi.log"
READY=$(since "$T_START")
log "keystone answers (${READY}s after uwsgi start); creating fixtures"

# --- REST helpers ---------------------------------------------------------------
# token AUTH_JSON: issue a token, print it
token() {
  curl --noproxy '*' -sS -m 60 -D - -o /dev/null -H 'Content-Type: application/json' -d "$1" \
    "$URL/v3/auth/tokens" | tr -d '\r' | awk 'tolower($1)=="x-subject-token:"{print $2}'
}
pw_auth() { # pw_auth USER PASSWORD PROJECT_NAME  (user and project in domain "default")
  jq -nc --arg u "$1" --arg p "$2" --arg pr "$3" '{auth:{identity:{methods:["password"],
    password:{user:{name:$u,password:$p,domain:{id:"default"}}}},
    scope:{project:{name:$pr,domain:{id:"default"}}}}}'
}
# api WHO METHOD PATH [JSON]: call as WHO (a var holding an auth body) with the token
# cached in TOKEN_<WHO>; re-auth once on 401 (tokens may be short-lived)
api() {
  local who=$1 method=$2 path=$3 data=${4:-} tv="TOKEN_$1" out code i
  for i in 1 2; do
    [ -n "${!tv:-}" ] || printf -v "$tv" '%s' "$(token "${!who}")"
    out=$(curl --noproxy '*' -sS -m 60 -X "$method" -H "X-Auth-Token: ${!tv}" -H 'Content-Type: application/json' \
          ${data:+-d "$data"} -w '\n%{http_code}' "$URL/v3$path") || die "$method $path: curl failed"
    code=${out##*$'\n'}; out=${out%$'\n'*}
    [ "$code" = 401 ] && [ "$i" = 1 ] && { printf -v "$tv" '%s' ""; continue; }
    break
  done
  [ "$code" -lt 400 ] || die "$method $path -> HTTP $code: $out"
  printf '%s' "$out"
}
id_of() { jq -er "$1" || die "unexpected response for $1"; }

# --- fixtures -------------------------------------------------------------------
ADMIN=$(pw_auth admin "$ADMIN_PASSWORD" admin)
# shellcheck disable=SC2034  # TOKEN_<WHO> is read indirectly by api()
TOKEN_ADMIN=$(token "$ADMIN")
ADMIN_PROJECT_ID=$(api ADMIN GET '/projects?name=admin' | id_of '.projects[0].id')
ADMIN_ID=$(api ADMIN GET '/users?name=admin' | id_of '.users[0].id')
role() { api ADMIN GET "/roles?name=$1" | id_of '.roles[0].id'; }
ROLE_ADMIN=$(role admin); ROLE_MEMBER=$(role member); ROLE_READER=$(role reader)

ACME=$(api ADMIN POST /domains '{"domain":{"name":"acme","description":"second test domain"}}' | id_of .domain.id)
DEMO=$(api ADMIN POST /projects '{"project":{"name":"demo","domain_id":"default"}}' | id_of .project.id)
OPS=$(api ADMIN POST /projects "{\"project\":{\"name\":\"ops\",\"domain_id\":\"$ACME\"}}" | id_of .project.id)

BOB_TOTP=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ   # base32("12345678901234567890"), RFC 6238 key
CAROL_TOTP=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP   # Keystone needs >= 16-byte secrets (base32 >= 26 chars)
user() { # user NAME DOMAIN_ID PASSWORD [EXTRA_JSON]
  local extra=${4:-'{}'}
  api ADMIN POST /users "$(jq -nc --arg n "$1" --arg d "$2" --arg p "$3" --argjson x "$extra" \
    '{user:({name:$n,domain_id:$d,password:$p,enabled:true}+$x)}')" | id_of .user.id
}
ALICE=$(user alice default alice-secret)
BOB=$(user bob "$ACME" bob-secret "{\"default_project_id\":\"$OPS\"}")
CAROL=$(user carol "$ACME" carol-secret \
  '{"options":{"multi_factor_auth_enabled":true,"multi_factor_auth_rules":[["password","totp"]]}}')

grant() { api ADMIN PUT "$1" >/dev/null; }
grant "/projects/$DEMO/users/$ALICE/roles/$ROLE_MEMBER"
grant "/projects/$OPS/users/$BOB/roles/$ROLE_MEMBER"
grant "/projects/$OPS/users/$CAROL/roles/$ROLE_MEMBER"
grant "/domains/default/users/$ALICE/roles/$ROLE_READER"
grant "/domains/default/users/$ADMIN_ID/roles/$ROLE_ADMIN"
grant "/system/users/$ADMIN_ID/roles/$ROLE_ADMIN"   # bootstrap already did; idempotent

totp() { api ADMIN POST /credentials "{\"credential\":{\"type\":\"totp\",\"user_id\":\"$1\",\"blob\":\"$2\"}}" | id_of .credential.id; }
BOB_CRED=$(totp "$BOB" "$BOB_TOTP")
CAROL_CRED=$(totp "$CAROL" "$CAROL_TOTP")

# application credentials and a trust must be created by alice herself
ALICE_AUTH=$(pw_auth alice alice-secret demo)
# shellcheck disable=SC2034
TOKEN_ALICE_AUTH=$(token "$ALICE_AUTH")
AC_EXPIRES=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%S.000000)
AC=$(api ALICE_AUTH POST "/users/$ALICE/application_credentials" \
  '{"application_credential":{"name":"alice-ac","secret":"alice-ac-secret","description":"all roles alice has on demo, no expiry"}}')
ACR=$(api ALICE_AUTH POST "/users/$ALICE/application_credentials" "{\"application_credential\":{
  \"name\":\"alice-ac-restricted\",\"secret\":\"alice-ac-restricted-secret\",\"roles\":[{\"name\":\"reader\"}],
  \"expires_at\":\"$AC_EXPIRES\",\"access_rules\":[{\"service\":\"identity\",\"method\":\"GET\",\"path\":\"/v3/auth/projects\"}]}}")
TRUST=$(api ALICE_AUTH POST /OS-TRUST/trusts "{\"trust\":{\"trustor_user_id\":\"$ALICE\",
  \"trustee_user_id\":\"$BOB\",\"project_id\":\"$DEMO\",\"impersonation\":false,\"roles\":[{\"name\":\"member\"}]}}" \
  | id_of .trust.id)

# --- a realistic catalog: 6 services x 2 regions x 3 interfaces -------------------
api ADMIN POST /regions '{"region":{"id":"RegionTwo","description":"second test region"}}' >/dev/null
SERVICES='compute:nova:8774:/v2.1
volumev3:cinderv3:8776:/v3/%(project_id)s
block-storage:cinder:8776:/v3/%(project_id)s
object-store:swift:8080:/v1/AUTH_%(project_id)s
network:neutron:9696:/
image:glance:9292:'
while IFS=: read -r type name port path; do
  sid=$(api ADMIN POST /services "{\"service\":{\"type\":\"$type\",\"name\":\"$name\",\"enabled\":true}}" | id_of .service.id)
  for region in RegionOne RegionTwo; do
    for iface in public internal admin; do
      host="$iface.$(echo "$region" | tr '[:upper:]' '[:lower:]').example.test"
      api ADMIN POST /endpoints "{\"endpoint\":{\"service_id\":\"$sid\",\"region_id\":\"$region\",
        \"interface\":\"$iface\",\"url\":\"http://$host:$port$path\",\"enabled\":true}}" >/dev/null
    done
  done
done <<< "$SERVICES"

# --- outputs --------------------------------------------------------------------
jq -n --arg url "$URL" --arg dir "$DIR" --argjson exp "$EXPIRATION" --arg adminpw "$ADMIN_PASSWORD" \
  --arg admin "$ADMIN_ID" --arg adminp "$ADMIN_PROJECT_ID" --arg acme "$ACME" --arg demo "$DEMO" --arg ops "$OPS" \
  --arg alice "$ALICE" --arg bob "$BOB" --arg carol "$CAROL" --arg bobc "$BOB_CRED" --arg carolc "$CAROL_CRED" \
  --arg bobs "$BOB_TOTP" --arg carols "$CAROL_TOTP" --arg trust "$TRUST" \
  --arg radmin "$ROLE_ADMIN" --arg rmember "$ROLE_MEMBER" --arg rreader "$ROLE_READER" \
  --argjson ac "$AC" --argjson acr "$ACR" --argjson pid "$pid" '
def appcred(a): a.application_credential | {id, name, secret, user_id: .user_id, project_id, unrestricted,
  expires_at, roles: [.roles[].name], access_rules: [(.access_rules // [])[] | {service, method, path}]};
{
  auth_url: "\($url)/v3", endpoint: $url, region: "RegionOne", regions: ["RegionOne", "RegionTwo"],
  token_expiration_seconds: $exp, state_dir: $dir, pid: $pid,
  domains: {default: {id: "default", name: "Default"}, acme: {id: $acme, name: "acme"}},
  projects: {admin: {id: $adminp, name: "admin", domain_id: "default"},
             demo: {id: $demo, name: "demo", domain_id: "default"},
             ops: {id: $ops, name: "ops", domain_id: $acme}},
  roles: {admin: $radmin, member: $rmember, reader: $rreader},
  users: {
    admin: {id: $admin, name: "admin", password: $adminpw, domain_id: "default", domain_name: "Default",
            roles: ["admin on project admin", "admin on domain Default", "admin on system all"]},
    alice: {id: $alice, name: "alice", password: "alice-secret", domain_id: "default", domain_name: "Default",
            roles: ["member on project demo", "reader on domain Default"]},
    bob: {id: $bob, name: "bob", password: "bob-secret", domain_id: $acme, domain_name: "acme",
          default_project_id: $ops, totp_secret: $bobs, totp_credential_id: $bobc,
          roles: ["member on project ops"]},
    carol: {id: $carol, name: "carol", password: "carol-secret", domain_id: $acme, domain_name: "acme",
            totp_secret: $carols, totp_credential_id: $carolc, mfa_rules: [["password", "totp"]],
            roles: ["member on project ops"]}},
  application_credentials: {alice: appcred($ac), alice_restricted: appcred($acr)},
  trusts: {alice_to_bob: {id: $trust, trustor_user_id: $alice, trustee_user_id: $bob, project_id: $demo,
                          impersonation: false, roles: ["member"]}}
}' > "$DIR/fixtures.json.tmp"
mv "$DIR/fixtures.json.tmp" "$DIR/fixtures.json"   # readers never see a partial file

cat > "$DIR/clouds.yaml" <<EOF
clouds:
  admin: {region_name: RegionOne, auth: {auth_url: '$URL/v3', username: admin, password: '$ADMIN_PASSWORD', user_domain_id: default, project_name: admin, project_domain_id: default}}
  admin-system: {region_name: RegionOne, auth: {auth_url: '$URL/v3', username: admin, password: '$ADMIN_PASSWORD', user_domain_id: default, system_scope: all}}
  alice: {region_name: RegionOne, auth: {auth_url: '$URL/v3', username: alice, password: alice-secret, user_domain_name: Default, project_name: demo, project_domain_name: Default}}
  bob: {region_name: RegionOne, auth: {auth_url: '$URL/v3', username: bob, password: bob-secret, user_domain_name: acme, project_name: ops, project_domain_name: acme}}
  alice-appcred: {region_name: RegionOne, auth_type: v3applicationcredential, auth: {auth_url: '$URL/v3', application_credential_id: '$(jq -r .application_credential.id <<<"$AC")', application_credential_secret: alice-ac-secret}}
EOF
echo "up.sh: keystone pid $pid: first 200 ${READY}s after uwsgi start, up.sh took $(since "$T0")s;" \
  "fixtures in $DIR/fixtures.json" >&2
echo "$URL/v3"
