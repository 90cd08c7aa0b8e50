#!/usr/bin/env bash
# watchdog.sh PARENT_PID TARGET_PID: stop TARGET_PID's process group once
# PARENT_PID has exited (or is a zombie), e.g. when a test binary that started a
# Keystone is killed by `go test -timeout` or SIGKILL and never runs down.sh.
# Exits by itself once the target is gone (down.sh stopped it).
# up.sh starts it detached (setsid, stdio to $KEYSTONE_DIR/watchdog.log) when
# KEYSTONE_PARENT_PID is set; the target must lead its own process group (setsid).
# Both pids are pinned by their start time in /proc, so a recycled pid is
# neither mistaken for a live parent nor killed as the target.
# Env: KEYSTONE_WATCHDOG_INTERVAL (seconds between checks, default 1),
#      KEYSTONE_WATCHDOG_GRACE (seconds from SIGTERM to SIGKILL, default 10).
set -uo pipefail

die() { echo "watchdog.sh: $*" >&2; exit 1; }
[ $# = 2 ] && [[ "$1$2" =~ ^[0-9]+$ ]] || die "usage: watchdog.sh PARENT_PID TARGET_PID"
PARENT=$1 TARGET=$2
INTERVAL=${KEYSTONE_WATCHDOG_INTERVAL:-1}
GRACE=${KEYSTONE_WATCHDOG_GRACE:-10}

# pstat PID: "STATE STARTTIME" from /proc/PID/stat (fields 3 and 22; the command
# name, field 2, may hold spaces and parentheses, so cut after its last ")").
pstat() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; s=${s##*) }; set -- $s; echo "$1 ${20}"; }
# start_time PID: prints the start time of a live (non-zombie) PID, or fails
start_time() { local st; st=$(pstat "$1") || return 1; [ "${st%% *}" != Z ] || return 1; echo "${st#* }"; }
# same PID START: PID is still the live process that had start time START
same() { local t; t=$(start_time "$1") && [ "$t" = "$2" ]; }

target_start=$(start_time "$TARGET") || exit 0 # already gone
parent_start=$(start_time "$PARENT") || parent_start=gone

while same "$TARGET" "$target_start"; do
  if [ "$parent_start" = gone ] || ! same "$PARENT" "$parent_start"; then
    echo "watchdog.sh: $(date -u +%FT%TZ) parent pid $PARENT is gone; stopping process group $TARGET" >&2
    kill -TERM -- "-$TARGET" 2>/dev/null || kill -TERM "$TARGET" 2>/dev/null
    for _ in $(seq 1 $((GRACE * 10))); do same "$TARGET" "$target_start" || break; sleep 0.1; done
    # Also whatever is left in the group (workers) once the leader is gone.
    kill -KILL -- "-$TARGET" 2>/dev/null
    same "$TARGET" "$target_start" && kill -KILL "$TARGET" 2>/dev/null
    exit 0
  fi
  sleep "$INTERVAL"
done
exit 0
