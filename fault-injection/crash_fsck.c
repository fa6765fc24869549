/*
 * crash_fsck.c -- runs the sxp-fsck binary on a directory (G-8). The
 * harness runs the tool as a user would, so a store the harness passes is
 * one the tool, not only the library, finds clean.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crash.h"

static int crash_fsck_try(const char *path, char *out)
{
    size_t n = strlen(path);
    if (n >= PATH_MAX || access(path, X_OK) != 0)
        return 0;
    memcpy(out, path, n + 1);
    return 1;
}

const char *crash_fsck_find(const char *argv0)
{
    static char found[PATH_MAX];
    char self[PATH_MAX], dir[PATH_MAX], cand[PATH_MAX + 32];
    const char *env = getenv("SXP_FSCK");
    if (env != NULL && *env != '\0')
        return crash_fsck_try(env, found) ? found : NULL;
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = '\0';
    } else if (argv0 != NULL && strlen(argv0) < sizeof(self)) {
        snprintf(self, sizeof(self), "%s", argv0);
    } else {
        return NULL;
    }
    snprintf(dir, sizeof(dir), "%s", self);
    char *d = dirname(dir);
    snprintf(cand, sizeof(cand), "%s/sxp-fsck", d);
    if (crash_fsck_try(cand, found))
        return found;
    /* From build/fault-injection or build/tests: build/fsck. */
    snprintf(cand, sizeof(cand), "%s/../fsck/sxp-fsck", d);
    if (crash_fsck_try(cand, found))
        return found;
    return NULL;
}

int crash_fsck_run(const char *fsck, const char *args, const char *dir, int verbose)
{
    char argbuf[64];
    char *argv[8];
    int argc = 0;
    snprintf(argbuf, sizeof(argbuf), "%s", args ? args : "");
    argv[argc++] = (char *)fsck;
    for (char *tok = strtok(argbuf, " "); tok != NULL && argc < 6; tok = strtok(NULL, " "))
        argv[argc++] = tok;
    argv[argc++] = (char *)dir;
    argv[argc] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        if (!verbose) {
            int null = open("/dev/null", O_WRONLY);
            if (null >= 0) {
                dup2(null, 1);
                dup2(null, 2);
            }
        }
        execv(fsck, argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    if (!WIFEXITED(status))
        return -ECHILD;
    return WEXITSTATUS(status) == 127 ? -ENOEXEC : WEXITSTATUS(status);
}
