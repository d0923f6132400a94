# kernel-watch.workload.sh: the guest half of test/interop/kernel-watch.ts.
# Busybox sh, sourced by shared/kclient/run.sh's guest init with cwd = the NFS mount.
# The host script prepends KWATCH_DIR (the watched directory, already made) and
# KWATCH_MARKER (the file created last). Each step is one change the host's
# watch must report once, in order: see EXPECTED in kernel-watch.ts.

cd "$KWATCH_DIR" || { echo "kwatch: no directory $KWATCH_DIR"; return 1; }
echo one > a                 # added a
echo two > b                 # added b
mv a c                       # renamed a -> c
rm b                         # removed b
mkdir sub                    # added sub
mv c sub/c                   # removed c (a rename out of the directory)
echo four > d                # added d
mv d e                       # renamed d -> e
rm e                         # removed e
echo five > f                # added f
echo six > g                 # added g
mv f g                       # renamed f -> g, replacing g
ln -s g s                    # added s
ln g h                       # added h
rm s h                       # removed s, removed h
rm sub/c                     # (inside sub: no event here)
rmdir sub                    # removed sub
echo done > "$KWATCH_MARKER" # added the marker
cd ..
echo "kwatch: workload done in $KWATCH_DIR: $(ls "$KWATCH_DIR" | tr '\n' ' ')"
