/*
 * cmd_admin.c -- `sxp recover` and `sxp stat`: the store as a whole.
 *
 * `recover` relies on the rule of sxp_store_open: a read-write open runs
 * recovery only when the store was not closed cleanly, on the logs the
 * crashed session wrote, and fails, naming the file and offset, on
 * corruption it finds there and must not hide. A store closed cleanly is
 * not checked at all ("nothing to recover", exit 0): sxp-fsck checks it.
 * `recover` then closes the store cleanly. `stat` prints the settings and
 * counts the public API exposes; `stat --socket PATH` asks a running server
 * instead ((sxp/stat), sock_stat.c) and prints each of its figures as
 * "NAME: VALUE".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sock.h"

int cli_cmd_recover(struct cli_global *g, int argc, char **argv)
{
    struct cli_args a;
    struct sxp_err err;
    struct sxp_stats st;
    sxp_store *s = NULL;
    sxp_value *streams = NULL;
    int status;

    memset(&err, 0, sizeof(err));
    if ((status = cli_args_parse("recover", NULL, 0, argc, argv, &a)) != 0)
        return status;
    if (a.help) {
        status = cli_usage_help("recover");
        goto out;
    }
    if (a.npos != 0) {
        status = cli_usage_error("recover", "recover takes no argument");
        goto out;
    }
    if (g->opts.read_only) {
        status = cli_usage_error("recover", "recover writes: it cannot run with --read-only");
        goto out;
    }
    /* recover repairs a store; it makes none. Opening a directory that is
     * not there would create one and report it "closed cleanly", which a
     * mistyped --dir must not read as. */
    const char *dir = sxp_store_resolve_dir(g->dir);
    struct stat sb;
    if (stat(dir, &sb) != 0 && errno == ENOENT) {
        status = cli_fail("notstore", "%s does not exist: no store to recover", dir);
        goto out;
    }
    if ((status = cli_store_open(g, 0, &s)) != 0)
        goto out;
    sxp_store_stats(s, &st);
    if (sxp_stream_list(s, &streams, &err) != 0) {
        status = cli_report(&err);
        goto out;
    }
    if (st.recovered) {
        printf("%s: was not closed cleanly; recovery cut %u torn tail%s (%llu bytes), rolled "
               "%u high-water mark%s forward, recreated %u .seq file%s and removed %u temp "
               "file%s\n",
               sxp_store_dir(s), st.rec_tails_cut, st.rec_tails_cut == 1 ? "" : "s",
               (unsigned long long)st.rec_bytes_cut, st.rec_hw_rolled,
               st.rec_hw_rolled == 1 ? "" : "s", st.rec_seq_created,
               st.rec_seq_created == 1 ? "" : "s", st.rec_tmp_removed,
               st.rec_tmp_removed == 1 ? "" : "s");
        if (st.rec_unborn)
            printf("%u stream%s never appended to (the first append failed or never became "
                   "durable): %s empty log removed\n",
                   st.rec_unborn, st.rec_unborn == 1 ? "" : "s",
                   st.rec_unborn == 1 ? "its" : "their");
        if (st.rec_tails_saved)
            printf("%u of those torn tails held whole lines after a damaged one, or bytes the "
                   "high-water mark says may have been acknowledged: copied to "
                   "lost+found/ first (see its MANIFEST)\n",
                   st.rec_tails_saved);
        printf("recovery read %u log%s; %u other%s %s not written by the crashed session\n",
               st.rec_logs_scanned, st.rec_logs_scanned == 1 ? "" : "s", st.rec_logs_skipped,
               st.rec_logs_skipped == 1 ? "" : "s", st.rec_logs_skipped == 1 ? "was" : "were");
    } else
        printf("%s: was closed cleanly; nothing to recover\n", sxp_store_dir(s));
    printf("%zu stream%s; store closed cleanly\n", sxp_value_len(streams),
           sxp_value_len(streams) == 1 ? "" : "s");
    status = cli_flush_stdout();
out:
    if (s != NULL && cli_store_close(s) != 0)
        status = CLI_EXIT_FAIL;
    sxp_value_free(streams);
    cli_args_free(&a);
    return status;
}

/* The keys of (sxp/stat), in the order sock_stat.c lists them. */
static const char *const cli_stat_keys[] = {
    "socket",   "dir",    "io",      "sync",    "uptime-ms", "connections", "accepted", "refused",
    "requests", "errors", "running", "workers", "buffered",  "room",        "appends",  "batches",
    "fsyncs",   "bytes",  "streams", "queued",  "refusing",  "revived",
};
#define CLI_STAT_NKEYS (sizeof(cli_stat_keys) / sizeof(cli_stat_keys[0]))

static int cli_stat_known(const char *key, size_t klen)
{
    for (size_t i = 0; i < CLI_STAT_NKEYS; i++) {
        if (strlen(cli_stat_keys[i]) == klen && memcmp(cli_stat_keys[i], key, klen) == 0)
            return 1;
    }
    return 0;
}

/* Prints "KEY: VALUE", a string's raw bytes or a value's SX text. */
static int cli_stat_print(const char *key, size_t klen, const sxp_value *v, struct sxp_err *err)
{
    printf("%.*s:%*s", (int)klen, key, klen < 12 ? (int)(12 - klen) : 1, "");
    if (sxp_value_type(v) == SXP_STR) {
        size_t plen = 0;
        const char *p = sxp_value_as_str(v, &plen);

        fwrite(p, 1, plen, stdout);
        fputc('\n', stdout);
        return 0;
    }
    return cli_print_value(stdout, v, err);
}

/* `stat --socket PATH`. */
static int cli_stat_socket(const char *path)
{
    struct sock_reply r;
    struct sxp_err err;
    sxp_value *d = NULL;
    int status = CLI_EXIT_OK;

    memset(&err, 0, sizeof(err));
    if (sock_client_request(path, "(sxp/stat)", 10, &r, &err) != 0)
        return cli_report(&err);
    if (!r.ok) {
        status = cli_fail(r.kind[0] != '\0' ? r.kind : "error", "%s", r.msg);
        goto out;
    }
    if (sxp_value_parse(r.value, r.value_len, &d, &err) != 0 || sxp_value_type(d) != SXP_DICT) {
        status = cli_fail("io", "%s: the statistics are not a dict", path);
        goto out;
    }
    /* The figures in the order of sock_stat.c, then any the server adds. */
    for (size_t i = 0; i < CLI_STAT_NKEYS + sxp_value_len(d); i++) {
        const char *key = NULL;
        size_t klen = 0;
        const sxp_value *v;

        if (i < CLI_STAT_NKEYS) {
            key = cli_stat_keys[i];
            klen = strlen(key);
            v = sxp_value_dict_get(d, key, klen);
        } else {
            v = sxp_value_dict_at(d, i - CLI_STAT_NKEYS, &key, &klen);
            if (cli_stat_known(key, klen))
                continue;
        }
        if (v != NULL && cli_stat_print(key, klen, v, &err) != 0) {
            status = cli_report(&err);
            goto out;
        }
    }
    status = cli_flush_stdout();
out:
    sxp_value_free(d);
    sock_reply_free(&r);
    return status;
}

int cli_cmd_stat(struct cli_global *g, int argc, char **argv)
{
    static const struct cli_optspec specs[] = {{"socket", 0, 1}};
    struct cli_args a;
    struct sxp_err err;
    struct sxp_stats st;
    sxp_store *s = NULL;
    sxp_value *streams = NULL, *keys = NULL;
    int status;

    memset(&err, 0, sizeof(err));
    if ((status = cli_args_parse("stat", specs, 1, argc, argv, &a)) != 0)
        return status;
    if (a.help) {
        status = cli_usage_help("stat");
        goto out;
    }
    if (a.npos != 0) {
        status = cli_usage_error("stat", "stat takes no argument");
        goto out;
    }
    if (a.seen[0]) {
        if ((status = cli_socket_globals(g, "stat")) == 0)
            status = cli_stat_socket(a.val[0]);
        goto out;
    }
    if ((status = cli_store_open(g, 1, &s)) != 0)
        goto out;
    if (sxp_stream_list(s, &streams, &err) != 0 || sxp_kv_keys(s, &keys, &err) != 0) {
        status = cli_report(&err);
        goto out;
    }
    sxp_store_stats(s, &st);
    printf("dir:        %s\n", sxp_store_dir(s));
    printf("mode:       %s\n", g->opts.read_only ? "read-only" : "read-write");
    printf("io:         %s\n", st.io_name != NULL ? st.io_name : "?");
    printf("sync:       %s\n", g->opts.sync == SXP_SYNC_NONE ? "none" : "always");
    printf("recovered:  %s\n", st.recovered ? "yes (was not closed cleanly)" : "no");
    printf("streams:    %zu\n", sxp_value_len(streams));
    printf("kv keys:    %zu\n", sxp_value_len(keys));
    status = cli_flush_stdout();
out:
    if (s != NULL && cli_store_close(s) != 0)
        status = CLI_EXIT_FAIL;
    sxp_value_free(streams);
    sxp_value_free(keys);
    cli_args_free(&a);
    return status;
}
