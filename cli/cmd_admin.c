/*
 * cmd_admin.c -- `sxp recover` and `sxp stat`: the store as a whole.
 *
 * `recover` relies on the rule of sxp_store_open: a read-write open runs
 * recovery unless the store was closed cleanly, and fails, naming the file
 * and offset, on corruption it must not hide. It then closes the store
 * cleanly. `stat` prints the settings and counts the public API exposes.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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
    if ((status = cli_store_open(g, 0, &s)) != 0)
        goto out;
    sxp_store_stats(s, &st);
    if (sxp_stream_list(s, &streams, &err) != 0) {
        status = cli_report(&err);
        goto out;
    }
    if (st.recovered)
        printf("%s: was not closed cleanly; recovery cut %u torn tail%s (%llu bytes), rolled "
               "%u high-water mark%s forward, recreated %u .seq file%s and removed %u temp "
               "file%s\n",
               sxp_store_dir(s), st.rec_tails_cut, st.rec_tails_cut == 1 ? "" : "s",
               (unsigned long long)st.rec_bytes_cut, st.rec_hw_rolled,
               st.rec_hw_rolled == 1 ? "" : "s", st.rec_seq_created,
               st.rec_seq_created == 1 ? "" : "s", st.rec_tmp_removed,
               st.rec_tmp_removed == 1 ? "" : "s");
    else
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

int cli_cmd_stat(struct cli_global *g, int argc, char **argv)
{
    struct cli_args a;
    struct sxp_err err;
    struct sxp_stats st;
    sxp_store *s = NULL;
    sxp_value *streams = NULL, *keys = NULL;
    int status;

    memset(&err, 0, sizeof(err));
    if ((status = cli_args_parse("stat", NULL, 0, argc, argv, &a)) != 0)
        return status;
    if (a.help) {
        status = cli_usage_help("stat");
        goto out;
    }
    if (a.npos != 0) {
        status = cli_usage_error("stat", "stat takes no argument");
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
