#ifndef INLET_CSQLITE3_SHIM_H
#define INLET_CSQLITE3_SHIM_H
#include <sqlite3.h>

/// Process-wide settings, applied before the first connection opens (sqlite3_config is
/// variadic, which Swift cannot call). Memory statistics off: with them on, every
/// allocation SQLite makes takes a global mutex, shared by all connections.
static inline int inlet_sqlite3_configure(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/// Turns off the checkpoint SQLite runs when the last connection to a database closes
/// (sqlite3_db_config is variadic): after an I/O error nothing more may be copied from
/// the WAL into the database; recovery at the next start reads what is on disk.
static inline int inlet_sqlite3_no_checkpoint_on_close(sqlite3 *db) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)0);
}
#endif
