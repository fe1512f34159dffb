#include "quill_icu.h"
#include <unicode/uversion.h>
int32_t quill_icu_major(void) { return U_ICU_VERSION_MAJOR_NUM; }
