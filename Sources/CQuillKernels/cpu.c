#include "quill_kernels.h"

int32_t quill_cpu_path(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
    return 0;
#elif defined(__aarch64__)
    return 3;
#else
    return 0;
#endif
}
