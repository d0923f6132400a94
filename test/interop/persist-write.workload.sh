# Guest workload (busybox sh, cwd = the NFS mount): leaves files, a symlink, a
# hard link and directories under persist/ with their checksums in persist/SUMS,
# for persist-check.workload.sh to find after the server restarted.
set -e
rm -rf persist
mkdir -p persist/sub/deep
cd persist
i=0
while [ $i -lt 50 ]; do
  dd if=/dev/urandom of=f$i bs=1k count=$((i * 7 + 1)) 2>/dev/null
  i=$((i + 1))
done
phase write_16MiB dd if=/dev/urandom of=big bs=1M count=16 2>/dev/null
# A sparse file: a hole, then data past it.
dd if=/dev/urandom of=sparse bs=4k count=1 seek=1000 2>/dev/null
ln -s f1 link
ln f2 hard
echo renamed > before && mv before after
md5sum f* big sparse hard after > SUMS
sync
echo "persist-write OK: $(ls | wc -l) names"
