#include <sqlite3.h>
// SQLITE_TRANSIENT is a cast macro Swift cannot import: tell SQLite to copy bound data.
static inline void (*csqlite_transient(void))(void *) { return (void (*)(void *))-1; }
// sqlite3_db_config is variadic, which Swift cannot call. Hardens a connection against a store file from anywhere:
// defensive mode (no writable_schema, no direct writes to shadow tables), no extension loading, and no ATTACH (Quill
// never attaches), so no SQL that reaches this connection — Quill's, or a trigger planted in the file — can write to
// another file: SQLite's built-in functions write nothing. (An untrusted-schema setting would be stricter, but it also
// refuses the `json_valid` in Quill's own CHECK constraints.)
static inline int csqlite_harden(sqlite3 *db) {
    int rc = sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)0);
    if (rc == SQLITE_OK) rc = sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)0);
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
    return rc;
}
