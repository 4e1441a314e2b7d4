// Run-time CPU feature check for the AVX2+FMA bodies.
#include "ck_internal.h"

int ck_has_avx2_fma(void) {
#if CK_HAVE_X86
    // The answer never changes; __builtin_cpu_supports reads a table filled once by the runtime.
    static int cached = -1;
    int known = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (known < 0) {
        __builtin_cpu_init();
        known = (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 1 : 0;
        __atomic_store_n(&cached, known, __ATOMIC_RELAXED);
    }
    return known;
#else
    return 0;
#endif
}
