// The machine's own spawn limit for the execution scenario: N runs of
// `/bin/sh -c true`, K in flight, each child in its own session, as fast
// as C can start and reap them. Built with gcc -O2 at bench time.
//
//   spawn_limit fork|vfork|spawn [N=2000] [K=16] [MIB=0]
//
// fork:  fork() + setsid() + execve()   (what Deno's `detached: true` does)
// vfork: vfork() + setsid() + execve()
// spawn: posix_spawn() with POSIX_SPAWN_SETSID (what the process runner calls)
// MIB > 0 first allocates and touches that much memory, to show how fork's
// cost grows with the parent's size while vfork's does not.
//
// Prints one JSON line: {"mode":"fork","rate":2329.1,"failed":0}
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;
static char *const ARGV[] = {"sh", "-c", "true", NULL};

static pid_t start(const char *mode, posix_spawnattr_t *attr) {
  pid_t pid;
  if (strcmp(mode, "spawn") == 0) {
    if (posix_spawn(&pid, "/bin/sh", NULL, attr, ARGV, environ) != 0) return -1;
    return pid;
  }
  pid = strcmp(mode, "vfork") == 0 ? vfork() : fork();
  if (pid == 0) {
    setsid();
    execve("/bin/sh", ARGV, environ);
    _exit(127);
  }
  return pid;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "fork";
  int n = argc > 2 ? atoi(argv[2]) : 2000;
  int k = argc > 3 ? atoi(argv[3]) : 16;
  size_t mib = argc > 4 ? (size_t)atol(argv[4]) : 0;
  if (strcmp(mode, "fork") != 0 && strcmp(mode, "vfork") != 0 &&
      strcmp(mode, "spawn") != 0) {
    fprintf(stderr, "usage: spawn_limit fork|vfork|spawn [N] [K] [MIB]\n");
    return 2;
  }
  if (mib > 0) {
    char *ballast = malloc(mib << 20);
    if (ballast == NULL) return 1;
    for (size_t i = 0; i < (mib << 20); i += 4096) ballast[i] = 1;
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int started = 0, done = 0, failed = 0;
  while (done < n) {
    while (started < n && started - done < k) {
      if (start(mode, &attr) < 0) {
        failed++;
        done++;
      }
      started++;
    }
    int status;
    if (done >= n) break;
    if (wait(&status) < 0) break;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed++;
    done++;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("{\"mode\":\"%s\",\"mib\":%zu,\"rate\":%.1f,\"failed\":%d}\n", mode,
         mib, n / s, failed);
  return 0;
}
