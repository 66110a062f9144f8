#ifndef INLET_CSPAWN_H
#define INLET_CSPAWN_H
#include <spawn.h>

/// glibc functions that Swift's Glibc module does not import: that module is built
/// without _GNU_SOURCE, so the GNU extensions below are missing from it. CSpawn.c is
/// compiled with _GNU_SOURCE and calls them; this header declares only plain POSIX types.

/// pipe2(2): a pipe whose two ends get `flags` (O_CLOEXEC, O_NONBLOCK) atomically.
/// Returns 0, or -1 with errno set.
int inlet_pipe2(int fds[2], int flags);

/// posix_spawn_file_actions_addclosefrom_np(3) (glibc 2.34): the spawned program starts
/// with every descriptor from `from` upwards closed. Returns 0 or an error number.
int inlet_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);

#endif
