/* An LD_PRELOAD shim for the fault-injection tests: counts fdatasync/fsync calls on
 * SQLite WAL files (paths ending in "-wal"), appends each such path to $INLET_FAULT_LOG,
 * and makes call number $INLET_FAULT_FDATASYNC_FAIL_AT fail with EIO. Later calls
 * succeed again, as Linux reports a failed writeback once and then returns success for
 * pages that never reached the disk. Built by the tests: cc -shared -fPIC -o x.so this.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long calls;

static int wal_path(int fd, char *path, size_t size) {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, size - 1);
    if (n <= 4) return 0;
    path[n] = 0;
    return strcmp(path + n - 4, "-wal") == 0;
}

/* 0: go on and sync; -1 with errno EIO: this call fails. */
static int intercept(int fd) {
    char path[4096];
    if (!wal_path(fd, path, sizeof path)) return 0;
    pthread_mutex_lock(&lock);
    long n = ++calls;
    const char *log = getenv("INLET_FAULT_LOG");
    if (log) {
        FILE *file = fopen(log, "a");
        if (file) {
            fprintf(file, "%ld %s\n", n, path);
            fclose(file);
        }
    }
    pthread_mutex_unlock(&lock);
    const char *at = getenv("INLET_FAULT_FDATASYNC_FAIL_AT");
    if (at && n == atol(at)) {
        errno = EIO;
        return -1;
    }
    return 0;
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    if (intercept(fd) < 0) return -1;
    return real(fd);
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    if (intercept(fd) < 0) return -1;
    return real(fd);
}
