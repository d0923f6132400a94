# Guest workload: checks what persist-write.workload.sh left, after a server restart.
set -e
cd persist
phase verify_sums md5sum -c -s SUMS
[ "$(readlink link)" = f1 ]
[ "$(stat -c %h f2)" = 2 ]
[ "$(stat -c %s big)" = 16777216 ]
[ "$(stat -c %s sparse)" = 4100096 ]
[ -d sub/deep ] && [ ! -e before ]
[ "$(ls | wc -l)" = 57 ]
echo "persist-check OK"
