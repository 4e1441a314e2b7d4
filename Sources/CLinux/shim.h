// Linux interfaces that Glibc's Swift module leaves out: epoll and eventfd (the HTTP server's IOLoop), and the
// affinity mask (one IOLoop per core the process may run on; as many chunks per numerical kernel). No _GNU_SOURCE
// here: it would change libc's struct definitions for this module only, and Clang then refuses to merge them with
// other modules' (fd_set).
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

/// Cores this process may run on: its affinity mask (taskset, a container's cpuset), else every online core; at
/// least 1. Work split over more threads than this only takes turns on the same cores.
static inline int clinux_usable_cpu_count(void) {
    int count = clinux_affinity_cpu_count();
    if (count > 0) return count;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}
