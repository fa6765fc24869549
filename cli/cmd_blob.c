/*
 * cmd_blob.c -- `sxp blob put|get|has`: content-addressed blobs.
 *
 *   put FILE|-          stores the bytes of FILE (or stdin), prints the cid
 *   get CID [-o FILE]   writes the raw bytes, no newline added, to stdout or
 *                       FILE; an absent blob is an error (exit 1) and FILE
 *                       is then not created
 *   has CID             prints true or false
 *
 * The cid check is the engine's (SPEC.md section 5): a string that is not a
 * well-formed cid is an error of kind "cid", never a path. It is made
 * before the store is opened (cli_run), so it creates no store.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* Reads the whole of path ("-": stdin). Reports and returns CLI_EXIT_FAIL.
 * More than SXP_BLOB_MAX bytes is refused before they are all read: a file
 * by its size, stdin once it has given one byte too many. */
static int cli_blob_read_input(const char *path, char **out, size_t *out_len)
{
    const char *name = strcmp(path, "-") == 0 ? "stdin" : path;
    FILE *f = stdin;
    struct stat st;
    int rc;

    if (strcmp(path, "-") != 0) {
        if ((f = fopen(path, "rb")) == NULL)
            return cli_fail("io", "open %s: %s", path, strerror(errno));
        if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
            (uint64_t)st.st_size > SXP_BLOB_MAX) {
            fclose(f);
            return cli_fail("limit", "%s is %lld bytes: a blob is at most %zu", path,
                            (long long)st.st_size, SXP_BLOB_MAX);
        }
    }
    rc = cli_read_all(f, SXP_BLOB_MAX, out, out_len);
    if (f != stdin)
        fclose(f);
    if (rc == -E2BIG)
        return cli_fail("limit", "%s holds more than %zu bytes: a blob is at most that", name,
                        SXP_BLOB_MAX);
    if (rc != 0)
        return cli_fail("io", "read %s: %s", name, strerror(-rc));
    return 0;
}

/* Writes bytes[0..len) to path, or to stdout when path is NULL. */
static int cli_blob_write_output(const char *path, const char *bytes, size_t len)
{
    FILE *f;
    int failed;

    if (path == NULL) {
        (void)fwrite(bytes, 1, len, stdout); /* a failure stays in ferror */
        return cli_flush_stdout();           /* says it, unless the reader left */
    }
    if ((f = fopen(path, "wb")) == NULL)
        return cli_fail("io", "open %s: %s", path, strerror(errno));
    failed = fwrite(bytes, 1, len, f) != len;
    failed |= fflush(f) != 0;
    failed |= fclose(f) != 0;
    if (failed)
        return cli_fail("io", "write %s: %s", path, strerror(errno));
    return 0;
}

int cli_cmd_blob(struct cli_global *g, int argc, char **argv)
{
    static const struct cli_optspec specs[] = {
        {"output", 'o', 1},
    };
    struct cli_args a;
    struct sxp_err err;
    sxp_store *s = NULL;
    sxp_value *result = NULL;
    char *bytes = NULL;
    size_t len = 0;
    const char *sub;
    int status;

    memset(&err, 0, sizeof(err));
    if ((status = cli_args_parse("blob", specs, 1, argc, argv, &a)) != 0)
        return status;
    if (a.help) {
        status = cli_usage_help("blob");
        goto out;
    }
    if (a.npos == 0) {
        status = cli_usage_error("blob", "blob needs a subcommand: put, get or has");
        goto out;
    }
    sub = a.pos[0];
    if (strcmp(sub, "put") != 0 && strcmp(sub, "get") != 0 && strcmp(sub, "has") != 0) {
        status = cli_usage_error("blob", "no such blob subcommand: '%s'", sub);
        goto out;
    }
    if (a.npos != 2) {
        status = cli_usage_error("blob", "blob %s takes one %s", sub,
                                 strcmp(sub, "put") == 0 ? "FILE (or -)" : "CID");
        goto out;
    }
    if (a.seen[0] && strcmp(sub, "get") != 0) {
        status = cli_usage_error("blob", "-o/--output goes with blob get only");
        goto out;
    }
    if (strcmp(sub, "put") == 0 && (status = cli_blob_read_input(a.pos[1], &bytes, &len)) != 0)
        goto out;

    if (strcmp(sub, "put") == 0) {
        if (cli_run(g, &s, "blob/put", &result, &err, 1, sxp_value_str(bytes, len)) != 0) {
            status = cli_report(&err);
            goto out;
        }
        (void)cli_print_raw(stdout, result); /* a failure stays in ferror */
        status = cli_flush_stdout();
    } else if (strcmp(sub, "get") == 0) {
        const char *p;

        if (cli_run(g, &s, "blob/get", &result, &err, 1, cli_str(a.pos[1])) != 0) {
            status = cli_report(&err);
            goto out;
        }
        if (sxp_value_type(result) != SXP_STR) {
            status = cli_fail("absent", "no blob %s in %s", a.pos[1], sxp_store_dir(s));
            goto out;
        }
        p = sxp_value_as_str(result, &len);
        status = cli_blob_write_output(a.seen[0] && strcmp(a.val[0], "-") != 0 ? a.val[0] : NULL, p,
                                       len);
    } else {
        if (cli_run(g, &s, "blob/has?", &result, &err, 1, cli_str(a.pos[1])) != 0) {
            status = cli_report(&err);
            goto out;
        }
        status = cli_output_value(result);
    }
out:
    if (s != NULL && cli_store_close(s) != 0)
        status = CLI_EXIT_FAIL;
    sxp_value_free(result);
    free(bytes);
    cli_args_free(&a);
    return status;
}
