#ifndef INLET_CSQLITE3_SHIM_H
#define INLET_CSQLITE3_SHIM_H
#include <sqlite3.h>

/// Process-wide settings, applied before the first connection opens (sqlite3_config is
/// variadic, which Swift cannot call). Memory statistics off: with them on, every
/// allocation SQLite makes takes a global mutex, shared by all connections.
static inline int inlet_sqlite3_configure(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
#endif
