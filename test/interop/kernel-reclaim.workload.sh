# Guest workload for kernel-reclaim.ts (busybox sh, cwd = the NFS mount, hard
# mount). Holds an open file and a lock, starts a write, and tells the host
# (console lines "KCLIENT-MARK …") when to kill the server; then waits for the
# write to finish, writes through the file it kept open, and waits for the
# host (which checks the lock from another client) to create rs/host-done
# before it checks that every byte is there.
set -e
mkdir -p rs
cd rs
rm -f host-done inflight held locked
dd if=/dev/urandom of=/tmp/src.bin bs=1M count=32 2>/dev/null
echo before > held
exec 3>>held
echo x > locked
# /tmp/lockhold (lockhold.c, put there by kernel-reclaim.ts) holds a
# whole-file POSIX lock, a LOCK on the server, until host-done exists.
/tmp/lockhold locked host-done &
HOLDER=$!
while [ ! -e host-checked-lock ]; do sleep 0.2; done
dd if=/tmp/src.bin of=inflight bs=64k conv=fsync 2>/dev/null &
WRITER=$!
sleep 1
echo "KCLIENT-MARK kill-now"
wait $WRITER
echo after >&3
exec 3>&-
echo "KCLIENT-MARK writes-done"
wait $HOLDER
echo 3 > /proc/sys/vm/drop_caches
[ "$(md5sum < inflight)" = "$(md5sum < /tmp/src.bin)" ]
[ "$(cat held)" = "$(printf 'before\nafter')" ]
echo "reclaim workload OK"
