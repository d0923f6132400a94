# kernel-delegation.workload.sh: the guest half of test/interop/kernel-delegation.ts.
# Busybox sh, sourced by shared/kclient/run.sh's guest init with cwd = the NFS mount.
# The host script prepends KDELEG_CTL=http://10.0.2.2:PORT, its control server:
# each request asks the host's client to act on a file and is answered only once
# it has; `report` tells the host what the kernel saw. The host judges; this
# script fails only when the host cannot be reached.

# (No -T: busybox 1.35 wget segfaults with it; its read timeout is 900 s by default.)
ctl() { wget -q -O - "$KDELEG_CTL/$1"; }
# What we saw, as one URL-safe word.
tok() { printf '%s' "$1" | tr -c 'A-Za-z0-9._-' '_' | cut -c1-80; }
report() { ctl "report?key=$1&value=$(tok "$2")" >/dev/null; }
# The op count of one NFS operation in this mount's /proc/self/mountstats.
opcount() { awk -v m="$MNT" -v op="$1:" '/^device /{p = ($5 == m)} p && $1 == op {print $2; exit}' /proc/self/mountstats; }
returned_since() { echo $(( $(opcount DELEGRETURN) - $1 )); }

ctl "hello?kernel=$(uname -r | sed "s/+/%2B/g")&run=$RUN_ID" || { echo "kdeleg: control server $KDELEG_CTL unreachable"; return 1; }

# A. Read delegation. The host creates the file; the kernel opens it for reading
# (granted a read delegation) and reads it; the host opens it for writing, which
# recalls the delegation, and writes; the kernel reads again. Twice: with the
# kernel's file still open during the recall, and with it closed.
for how in open closed; do
  f=kdeleg-read-$how-$RUN_ID
  ctl "create?step=a_$how&name=$f&data=host-v1" >/dev/null
  exec 3<"$f"
  report a_$how.before "$(cat "$f")"
  [ $how = closed ] && exec 3<&-
  d0=$(opcount DELEGRETURN)
  echo "kdeleg: A($how) host writes $f: $(ctl "write?step=a_$how&name=$f&data=host-v2")"
  report a_$how.delegreturns "$(returned_since "$d0")"
  report a_$how.after "$(cat "$f")"
  [ $how = open ] && exec 3<&-
done

# B. Write delegation. The kernel creates the file through a read-write open,
# writes and closes it (the write delegation stays); the host's OPEN recalls
# it, the host reads the kernel's data and writes its own; the kernel reads.
f=kdeleg-write-$RUN_ID
exec 4<>"$f"
printf 'kernel-w1' >&4
exec 4>&-
d0=$(opcount DELEGRETURN)
echo "kdeleg: B host reads and writes $f: $(ctl "readwrite?step=b&name=$f&data=host-w2")"
report b.delegreturns "$(returned_since "$d0")"
report b.after "$(cat "$f")"

ctl "done" >/dev/null
echo "kdeleg: OPEN=$(opcount OPEN) CLOSE=$(opcount CLOSE) DELEGRETURN=$(opcount DELEGRETURN)"
