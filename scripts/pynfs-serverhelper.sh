#!/bin/sh
# Starts, stops and restarts a `dfs serve` for pynfs's server-side operations:
# pynfs's testserver.py runs `SCRIPT ARG reboot` for its reboot tests (flag
# `reboot`, codes REBT*) when given --serverhelper=SCRIPT --serverhelperarg=ARG.
#
#   scripts/pynfs-serverhelper.sh RUNDIR start    start dfs, wait until it listens
#   scripts/pynfs-serverhelper.sh RUNDIR reboot   kill it (SIGKILL: a crash) and start it again
#   scripts/pynfs-serverhelper.sh RUNDIR stop     stop it (SIGTERM)
#
# RUNDIR holds config.json, the `dfs serve --config` file: it names the listen
# address and a persistent store, e.g.
#   { "listen": ["127.0.0.1:2049"], "store": { "backend": "sqlite", "dataDir": "/tmp/dfs-data" },
#     "nfs": { "leaseTimeSec": 20, "graceTimeSec": 20 }, "logLevel": "info" }
# The server's pid goes to RUNDIR/dfs.pid and its output to RUNDIR/dfs.log.
# DFS_REBOOT_SIGNAL=TERM makes `reboot` a clean shutdown instead of a crash.
# Needs a built tree (`npm run build`, or `npm ci`).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 2 ] || { echo "usage: $0 RUNDIR start|stop|reboot" >&2; exit 2; }
run=$1
config="$run/config.json"
pidfile="$run/dfs.pid"
log="$run/dfs.log"
[ -f "$config" ] || { echo "$0: no $config" >&2; exit 2; }

running() {
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

stop() {
  signal=$1
  running || return 0
  pid=$(cat "$pidfile")
  kill "-$signal" "$pid" 2>/dev/null || true
  # Wait for it to be gone: the next server needs the port and the data directory.
  i=0
  while kill -0 "$pid" 2>/dev/null; do
    i=$((i + 1))
    [ $i -le 300 ] || { echo "$0: dfs $pid did not stop" >&2; exit 1; }
    sleep 0.1
  done
  rm -f "$pidfile"
}

start() {
  running && { echo "$0: dfs already running ($(cat "$pidfile"))" >&2; exit 1; }
  lines=$( [ -f "$log" ] && wc -l < "$log" || echo 0)
  node "$here/bin/dfs.js" serve --config "$config" >> "$log" 2>&1 &
  echo $! > "$pidfile"
  # Ready once this start's "serving" line is in the log.
  i=0
  until tail -n "+$((lines + 1))" "$log" | grep -q "dfs: serving"; do
    running || { echo "$0: dfs exited; see $log" >&2; tail -n 5 "$log" >&2; exit 1; }
    i=$((i + 1))
    [ $i -le 300 ] || { echo "$0: dfs did not start; see $log" >&2; exit 1; }
    sleep 0.1
  done
}

case $2 in
  start) start ;;
  stop) stop TERM ;;
  reboot)
    stop "${DFS_REBOOT_SIGNAL:-KILL}"
    start
    ;;
  *) echo "usage: $0 RUNDIR start|stop|reboot" >&2; exit 2 ;;
esac
