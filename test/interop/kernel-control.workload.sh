# npm run interop:kernel-control: the guest holds a file open (with its
# delegation) while the host lists its state with dfsctl, then revokes a
# delegation, destroys the session and evicts the client; every step after
# must still work (the kernel recovers from each).
set -e
D=kc-ctl-$RUN_ID
mkdir -p $D
cd $D
echo hello > f1
exec 3< f1
i=0
while [ $i -lt 45 ]; do
  [ "$(cat f1)" = hello ]
  echo "$i" > f2
  [ "$(cat f2)" = "$i" ]
  sleep 1
  i=$((i+1))
done
exec 3<&-
echo "loop done: $i"
