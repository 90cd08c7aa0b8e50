#!/usr/bin/env bash
# Stop the Keystone that up.sh started, using its PID file only. Keeps the state
# dir (logs, fixtures) for inspection; up.sh wipes it on the next start.
set -euo pipefail

DIR=${KEYSTONE_DIR:-/tmp/keystone-test}
[ -d "$DIR" ] && DIR=$(cd "$DIR" && pwd)   # same spelling as up.sh used in the uwsgi command line
PIDFILE=$DIR/keystone.pid

die() { echo "down.sh: $*" >&2; exit 1; }
# alive PID: running and not a zombie (reads /proc, so procps is not needed)
alive() { local s; s=$(sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$1/stat" 2>/dev/null) && [ -n "$s" ] && [ "$s" != Z ]; }

[ -f "$PIDFILE" ] || { echo "down.sh: no $PIDFILE; nothing to stop"; exit 0; }
pid=$(cat "$PIDFILE")
[[ "$pid" =~ ^[0-9]+$ ]] || die "$PIDFILE does not hold a pid"

if alive "$pid"; then
  # Guard against a recycled pid: only signal the uwsgi master started for this dir.
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF "$DIR/uwsgi.ini" \
    || die "pid $pid is not the uwsgi started from $DIR; not killing it (remove $PIDFILE by hand)"
  kill -TERM "$pid"
  for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
  # up.sh started uwsgi with setsid, so its process group id is its pid.
  if alive "$pid"; then kill -KILL -- "-$pid" 2>/dev/null || true; sleep 0.5; fi
  alive "$pid" && die "pid $pid did not exit"
  echo "down.sh: stopped keystone (pid $pid)"
else
  echo "down.sh: keystone (pid $pid) was not running"
fi
rm -f "$PIDFILE"
