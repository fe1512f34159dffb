#include "quill_icu.h"
#include <unicode/ubrk.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/uversion.h>

const char *quill_icu_version(void) { return U_ICU_VERSION; }
const char *quill_icu_error_name(int32_t status) { return u_errorName((UErrorCode)status); }
int32_t quill_icu_failure(int32_t status) { return U_FAILURE((UErrorCode)status) ? 1 : 0; }

void *quill_break_open(int32_t kind, const char *locale, int32_t *status) {
    UErrorCode e = U_ZERO_ERROR;
    UBreakIterator *b = ubrk_open((UBreakIteratorType)kind, locale, NULL, 0, &e);
    *status = e;
    return U_FAILURE(e) ? NULL : b;
}

void quill_break_close(void *iterator) { ubrk_close((UBreakIterator *)iterator); }

void quill_break_set_text(void *iterator, const uint16_t *text, int32_t length, int32_t *status) {
    UErrorCode e = U_ZERO_ERROR;
    ubrk_setText((UBreakIterator *)iterator, (const UChar *)text, length, &e);
    *status = e;
}

int32_t quill_break_fill(void *iterator, int32_t *out, int32_t capacity) {
    int32_t n = 0;
    while (n < capacity) {
        int32_t p = ubrk_next((UBreakIterator *)iterator);
        if (p == UBRK_DONE) break;
        out[n++] = p;
    }
    return n;
}

const void *quill_normalizer(int32_t form, int32_t *status) {
    UErrorCode e = U_ZERO_ERROR;
    const UNormalizer2 *n = form == QUILL_NORMALIZE_NFKC ? unorm2_getNFKCInstance(&e) : unorm2_getNFCInstance(&e);
    *status = e;
    return U_FAILURE(e) ? NULL : n;
}

int32_t quill_normalized_prefix(const void *normalizer, const uint16_t *text, int32_t length, int32_t *status) {
    UErrorCode e = U_ZERO_ERROR;
    int32_t n = unorm2_spanQuickCheckYes((const UNormalizer2 *)normalizer, (const UChar *)text, length, &e);
    *status = e;
    return n;
}

int32_t quill_normalize(const void *normalizer, const uint16_t *text, int32_t length,
                        uint16_t *out, int32_t capacity, int32_t *status) {
    UErrorCode e = U_ZERO_ERROR;
    int32_t n = unorm2_normalize((const UNormalizer2 *)normalizer, (const UChar *)text, length, (UChar *)out, capacity, &e);
    *status = e;
    return n;
}

int32_t quill_fold_case(const uint16_t *text, int32_t length, uint16_t *out, int32_t capacity, int32_t *status) {
    UErrorCode e = U_ZERO_ERROR;
    int32_t n = u_strFoldCase((UChar *)out, capacity, (const UChar *)text, length, U_FOLD_CASE_DEFAULT, &e);
    *status = e;
    return n;
}

int32_t quill_utf8_to_utf16(const uint8_t *text, int32_t length, uint16_t *out, int32_t capacity, int32_t *status) {
    UErrorCode e = U_ZERO_ERROR;
    int32_t n = 0;
    u_strFromUTF8((UChar *)out, capacity, &n, (const char *)text, length, &e);
    *status = e;
    return n;
}

int32_t quill_utf16_to_utf8(const uint16_t *text, int32_t length, uint8_t *out, int32_t capacity, int32_t *status) {
    UErrorCode e = U_ZERO_ERROR;
    int32_t n = 0;
    u_strToUTF8((char *)out, capacity, &n, (const UChar *)text, length, &e);
    *status = e;
    return n;
}
