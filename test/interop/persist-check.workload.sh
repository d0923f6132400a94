# Guest workload: checks what persist-write.workload.sh left, after a server restart.
set -e
cd persist
if ! phase verify_sums md5sum -c -s SUMS; then
  # Which files differ, and how they look now.
  md5sum -c SUMS 2>&1 | grep -v ': OK$' || true
  ls -l
  exit 1
fi
[ "$(readlink link)" = f1 ]
[ "$(stat -c %h f2)" = 2 ]
[ "$(stat -c %s big)" = 16777216 ]
[ "$(stat -c %s sparse)" = 4100096 ]
[ -d sub/deep ] && [ ! -e before ]
[ "$(ls | wc -l)" = 57 ]
echo "persist-check OK"
