// Linux interfaces that Glibc's Swift module leaves out, for the HTTP server: epoll and eventfd (IOLoop), and
// the affinity mask (one IOLoop per core the process may run on). No _GNU_SOURCE here: it would change libc's
// struct definitions for this module only, and Clang then refuses to merge them with other modules' (fd_set).
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

/// CPUs in this process's affinity mask (taskset, a container's cpuset), or 0 when it cannot be read.
static inline int clinux_affinity_cpu_count(void) {
    uint64_t mask[16] = {0};  // 1024 CPUs, glibc's cpu_set_t
    long bytes = syscall(SYS_sched_getaffinity, 0, sizeof(mask), mask);
    if (bytes <= 0) return 0;
    int count = 0;
    for (long i = 0; i < bytes / 8 && i < 16; i++) count += __builtin_popcountll(mask[i]);
    return count;
}
