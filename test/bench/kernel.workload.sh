# kernel.workload.sh: the guest half of test/bench/kernel.ts (npm run bench:kernel).
# Busybox sh, sourced by shared/kclient/run.sh's guest init with cwd = the NFS
# mount; `phase NAME CMD...` (run.sh) times one step and prints
# "KCLIENT-PHASE NAME rc=N secs=S" from the guest's monotonic clock.
#
# Each timed step is one process (or shell builtins), so the guest's own
# fork/exec costs stay out of the figures as far as busybox allows. Before
# stat and ls -l the guest drops its caches, so those phases go to the server
# (LOOKUP/GETATTR, READDIR) instead of being answered from the dentry cache.
# Anything not timed (making the source data, checks) happens between phases.

set -e
# KBENCH-OPS NAME OP=N…: the mount's RPC counts so far (/proc/self/mountstats), after phase NAME;
# KBENCH-RTT NAME OP=MS…: the milliseconds those RPCs spent between the client's send and its
# receipt of the reply (mountstats' per-op "rtt": the server's time plus the network's).
# The host subtracts consecutive lines: what each phase cost. The pause after them (not timed)
# lets the host read the scale-out store's counters (kernel-scale-out.ts) before the next phase.
opcounts() {
  awk -v m="$MNT" -v n="$1" '/^device /{p = ($5 == m)} p && /^[ \t]+[A-Z_]+: [0-9]/ && $2 > 0 {sub(":", "", $1); s = s " " $1 "=" $2; r = r " " $1 "=" $8} END {print "KBENCH-OPS " n s; print "KBENCH-RTT " n r}' /proc/self/mountstats
  sleep 2
}
D=kbench-$RUN_ID
mkdir "$D"
cd "$D"

# ---- 64 MiB sequential write + sync, read after drop_caches (not with
# KBENCH_PHASES=namespace, which bench:kernel --phases namespace sets in a line
# before this script)
if [ "${KBENCH_PHASES:-all}" != namespace ]; then
  dd if=/dev/urandom of=/tmp/src.bin bs=1M count=64 2>/dev/null
  SUM0=$(md5sum < /tmp/src.bin | cut -d' ' -f1)
  sync
  echo 3 > /proc/sys/vm/drop_caches
  opcounts start
  write64() { dd if=/tmp/src.bin of=big.bin bs=1M 2>/dev/null && sync; }
  phase write_64MiB write64
  opcounts write_64MiB
  echo 3 > /proc/sys/vm/drop_caches
  read64() { dd if=big.bin of=/dev/null bs=1M 2>/dev/null; }
  phase read_64MiB read64
  opcounts read_64MiB
  SUM1=$(md5sum < big.bin | cut -d' ' -f1)
  [ "$SUM0" = "$SUM1" ] || { echo "kbench: checksum mismatch: wrote $SUM0, read $SUM1"; return 1; }
  [ "$(stat -c %s big.bin)" = 67108864 ] || { echo "kbench: big.bin has the wrong size"; return 1; }
  rm -f big.bin /tmp/src.bin
else
  opcounts start
fi

# ---- 1000 files: create, stat, ls -l, remove (names built in the shell: no directory reads)
FILES=""
i=0
while [ $i -lt 1000 ]; do FILES="$FILES f$i"; i=$((i + 1)); done
mkdir files
cd files
create1000() { for f in $FILES; do : > "$f"; done; }
phase create_1000 create1000
opcounts create_1000
sync
echo 3 > /proc/sys/vm/drop_caches
stat1000() { stat -c %s $FILES > /tmp/stat.out; }
phase stat_1000 stat1000
opcounts stat_1000
[ "$(grep -c '^0$' /tmp/stat.out)" = 1000 ] || { echo "kbench: stat saw $(wc -l < /tmp/stat.out) files"; return 1; }
echo 3 > /proc/sys/vm/drop_caches
lsl1000() { ls -l > /tmp/ls.out; }
phase ls_l_1000 lsl1000
opcounts ls_l_1000
[ "$(grep -c '^-' /tmp/ls.out)" = 1000 ] || { echo "kbench: ls -l listed $(grep -c '^-' /tmp/ls.out) files"; return 1; }
remove1000() { rm $FILES; }
phase remove_1000 remove1000
opcounts remove_1000
cd ..
[ -z "$(ls files)" ] || { echo "kbench: files left after rm"; return 1; }
rmdir files

# ---- 200 directories: mkdir, rmdir
DIRS=""
i=0
while [ $i -lt 200 ]; do DIRS="$DIRS d$i"; i=$((i + 1)); done
mkdir dirs
cd dirs
mkdir200() { mkdir $DIRS; }
phase mkdir_200 mkdir200
opcounts mkdir_200
rmdir200() { rmdir $DIRS; }
phase rmdir_200 rmdir200
opcounts rmdir_200
cd ..
rmdir dirs

# ---- 300 small files written (a write-only open each, as `echo > f`), then read back
SMALL=""
i=0
while [ $i -lt 300 ]; do SMALL="$SMALL s$i"; i=$((i + 1)); done
mkdir small
cd small
write300() { for f in $SMALL; do echo "$f" > "$f"; done; }
phase write_300 write300
opcounts write_300
read300() { for f in $SMALL; do read -r x < "$f" && [ "$x" = "$f" ] || return 1; done; }
phase read_300 read300
opcounts read_300
rm $SMALL
cd ..
rmdir small

cd ..
rmdir "$D"
echo "kbench: workload done"
