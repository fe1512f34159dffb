#include <sqlite3.h>
// SQLITE_TRANSIENT is a cast macro Swift cannot import: tell SQLite to copy bound data.
static inline void (*csqlite_transient(void))(void *) { return (void (*)(void *))-1; }
