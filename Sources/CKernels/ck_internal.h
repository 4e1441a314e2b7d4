// Shared by the CKernels sources: run-time choice between the AVX2+FMA and the portable bodies.
#ifndef TIAOYU_CK_INTERNAL_H
#define TIAOYU_CK_INTERNAL_H

#include "CKernels.h"

// The AVX2 bodies exist only where the compiler can target them (x86-64 with GCC or Clang).
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define CK_HAVE_X86 1
#define CK_AVX2 __attribute__((target("avx2,fma")))
#else
#define CK_HAVE_X86 0
#endif

/// 1 when `path` should run the AVX2 body on this CPU.
static inline int ck_use_avx2(ck_path path) {
    return path != CK_PATH_PORTABLE && ck_has_avx2_fma();
}

#endif
