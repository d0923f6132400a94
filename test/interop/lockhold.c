/*
 * lockhold FILE UNTIL: takes a whole-file POSIX write lock on FILE (F_SETLKW;
 * over NFSv4 a LOCK the server holds), prints "KCLIENT-MARK locked", and holds
 * it until the file UNTIL exists. The guest's busybox has no flock, so
 * kernel-reclaim.ts builds this (gcc -static -nostdlib, x86-64 Linux system
 * calls only, a few KiB) and ships it inside the workload script.
 */
typedef long i64;

static i64 sys(i64 n, i64 a, i64 b, i64 c) {
  i64 r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}

enum { SYS_write = 1, SYS_open = 2, SYS_access = 21, SYS_nanosleep = 35, SYS_fcntl = 72, SYS_exit = 60 };
enum { O_RDWR = 2, F_SETLKW = 7, F_WRLCK = 1 };

struct flock64 { short l_type, l_whence; i64 l_start, l_len; int l_pid; };
struct ts { i64 sec, nsec; };

static void say(const char *s) {
  i64 n = 0;
  while (s[n]) n++;
  sys(SYS_write, 1, (i64)s, n);
}

static __attribute__((used)) void start_c(i64 *sp) {
  i64 argc = sp[0];
  char **argv = (char **)(sp + 1);
  if (argc != 3) { say("usage: lockhold FILE UNTIL\n"); sys(SYS_exit, 2, 0, 0); }
  i64 fd = sys(SYS_open, (i64)argv[1], O_RDWR, 0);
  if (fd < 0) { say("lockhold: open failed\n"); sys(SYS_exit, 1, 0, 0); }
  struct flock64 l = { F_WRLCK, 0, 0, 0, 0 };
  if (sys(SYS_fcntl, fd, F_SETLKW, (i64)&l) < 0) { say("lockhold: lock failed\n"); sys(SYS_exit, 1, 0, 0); }
  say("KCLIENT-MARK locked\n");
  struct ts second = { 1, 0 };
  while (sys(SYS_access, (i64)argv[2], 0, 0) != 0) sys(SYS_nanosleep, (i64)&second, 0, 0);
  sys(SYS_exit, 0, 0, 0);
}

__asm__(".globl _start\n_start:\n mov %rsp, %rdi\n and $-16, %rsp\n call start_c\n hlt\n");
