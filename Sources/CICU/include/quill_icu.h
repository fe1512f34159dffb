#include <stdint.h>
int32_t quill_icu_major(void);
