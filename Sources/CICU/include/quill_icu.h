// A thin shim over ICU4C that exposes only plain C types to Swift.
//
// Why: ICU's C names carry a version suffix (ubrk_open_72), which Swift cannot see through the renaming macros, and a
// Swift file that sees both Foundation and ICU's own headers fails to compile because Foundation bundles a different
// ICU (`UErrorCode has different definitions`). So ICU headers are included only by shim.c; Swift sees int32_t,
// uint16_t and opaque pointers. Every function returns ICU's UErrorCode through `status` (0 = success, < 0 = warning).
#ifndef QUILL_ICU_H
#define QUILL_ICU_H
#include <stdint.h>

/// ICU's version, e.g. "72.1".
const char *quill_icu_version(void);
/// ICU's name for an error code, e.g. "U_BUFFER_OVERFLOW_ERROR".
const char *quill_icu_error_name(int32_t status);
/// Whether a status is a failure (warnings are not).
int32_t quill_icu_failure(int32_t status);

// MARK: Break iterators

enum { QUILL_BREAK_CHARACTER = 0, QUILL_BREAK_WORD = 1, QUILL_BREAK_LINE = 2, QUILL_BREAK_SENTENCE = 3 };

/// Opens a break iterator of a kind above for a locale ("" = root). NULL on failure.
void *quill_break_open(int32_t kind, const char *locale, int32_t *status);
void quill_break_close(void *iterator);
/// Sets the text (UTF-16, not copied: it must outlive the following fill calls).
void quill_break_set_text(void *iterator, const uint16_t *text, int32_t length, int32_t *status);
/// Writes the next boundaries after the current one (in UTF-16 units, excluding 0) into `out`; returns how many were
/// written, 0 at the end. Call again until it returns 0.
int32_t quill_break_fill(void *iterator, int32_t *out, int32_t capacity);

// MARK: Normalization and case folding

enum { QUILL_NORMALIZE_NFC = 1, QUILL_NORMALIZE_NFKC = 2 };

/// A shared, immutable normalizer instance (owned by ICU, never freed). NULL on failure.
const void *quill_normalizer(int32_t form, int32_t *status);
/// The length of the prefix of `text` that is certainly normalized (a fast quick-check span).
int32_t quill_normalized_prefix(const void *normalizer, const uint16_t *text, int32_t length, int32_t *status);
/// Normalizes `text` into `out`; returns the full length needed (U_BUFFER_OVERFLOW_ERROR when it exceeds capacity).
int32_t quill_normalize(const void *normalizer, const uint16_t *text, int32_t length,
                        uint16_t *out, int32_t capacity, int32_t *status);
/// Full default case folding (u_strFoldCase); returns the length needed.
int32_t quill_fold_case(const uint16_t *text, int32_t length, uint16_t *out, int32_t capacity, int32_t *status);

// MARK: Transcoding (inputs are valid; returns the length needed)

int32_t quill_utf8_to_utf16(const uint8_t *text, int32_t length, uint16_t *out, int32_t capacity, int32_t *status);
int32_t quill_utf16_to_utf8(const uint16_t *text, int32_t length, uint8_t *out, int32_t capacity, int32_t *status);

#endif
