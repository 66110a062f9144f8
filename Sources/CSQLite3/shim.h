#ifndef INLET_CSQLITE3_SHIM_H
#define INLET_CSQLITE3_SHIM_H
#include <sqlite3.h>
#endif
