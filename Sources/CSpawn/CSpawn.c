// The GNU extensions are declared only with _GNU_SOURCE, which must come before any
// system header.
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include "CSpawn.h"

int inlet_pipe2(int fds[2], int flags) {
    return pipe2(fds, flags);
}

int inlet_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
