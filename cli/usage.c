/*
 * usage.c -- the help text of `sxp` and of each command, and usage errors.
 *
 * The texts here, and the lines of the global options in globals.c, are
 * the reference the program gives; docs/cli.md retells them at more
 * length. A usage error is one line naming the problem and a hint to the
 * command's help, on stderr, with exit status 2.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The overview ("") is its page, then the global options (globals.c
 * writes them from its table), then cli_usage_overview_end. */
struct cli_usage_page {
    const char *cmd;  /* "" for the whole command */
    const char *text; /* printed as is */
};

static const struct cli_usage_page cli_usage_pages[] = {
    {"", "usage: sxp [GLOBAL OPTIONS] COMMAND [ARG...]\n"
         "\n"
         "sxp is a crash-safe log-structured store: event streams, a key-value\n"
         "table and content-addressed blobs, in one directory.\n"
         "\n"
         "Commands:\n"
         "  demo                      a short tour on a fresh store (start here)\n"
         "  op 'REQUEST'              run one request, e.g. '(persist/last-seq \"orders\")'\n"
         "  serve --stdio             answer one request per line on stdin\n"
         "  serve --socket PATH       serve the store on a Unix socket\n"
         "  append STREAM EVENT...    append events (SX dicts with an integer :seq)\n"
         "  read STREAM               print a stream's events, one per line\n"
         "  last-seq STREAM           print a stream's high-water mark\n"
         "  streams                   print the stream names, one per line\n"
         "  truncate STREAM N         drop the events with seq <= N\n"
         "  kv get|put|delete|has|keys  the key-value table\n"
         "  blob put|get|has          content-addressed blobs\n"
         "  recover                   open the store, repairing crash residue\n"
         "  stat [--socket PATH]      counts and settings of the store (or server)\n"
         "  help [COMMAND]            this text, or a command's\n"
         "\n"
         "Global options (before the command):\n"},
    {"op", "usage: sxp op [--socket PATH] 'REQUEST'\n"
           "       sxp op [--socket PATH] -\n"
           "\n"
           "Runs one request, SX text (OP ARG...), and prints the result's SX text.\n"
           "With '-' the request is read from stdin (it may span lines).\n"
           "With --socket PATH the request goes to the server `sxp serve --socket\n"
           "PATH` runs, instead of a store opened here (--dir, --sync, --io and\n"
           "--read-only do not go with it: the server has its store).\n"
           "\n"
           "Operations:\n"
           "  (persist/append STREAM EVENT)          nil\n"
           "  (persist/append-batch STREAM (list EVENT...))  nil\n"
           "  (persist/read STREAM)                  (list EVENT...)\n"
           "  (persist/read-range STREAM FROM LIMIT) (list EVENT...) with seq >= FROM\n"
           "  (persist/last-seq STREAM)              integer\n"
           "  (persist/streams)                      (list \"name\"...)\n"
           "  (persist/truncate STREAM N)            nil\n"
           "  (persist/kv-get KEY)                   value or nil\n"
           "  (persist/kv-put KEY VALUE)             nil\n"
           "  (persist/kv-delete KEY)                nil\n"
           "  (persist/kv-has? KEY)                  true or false\n"
           "  (persist/kv-keys)                      (list \"key\"...)\n"
           "  (blob/put BYTES)                       \"cid\"\n"
           "  (blob/get CID)                         bytes or nil\n"
           "  (blob/has? CID)                        true or false\n"
           "\n"
           "Example:\n"
           "  sxp op '(persist/append \"orders\" {:seq 1 :total 9.5})'\n"
           "\n"
           "A failed request prints one line \"sxp: KIND: MESSAGE\" on stderr,\n"
           "nothing on stdout, and exits 1.\n"},
    {"serve", "usage: sxp serve --stdio [--max-line BYTES]\n"
              "       sxp serve --socket PATH [--max-line BYTES] [--workers N] [--max-conns N]\n"
              "                 [--mode OCTAL] [--group GROUP] [--allow-uid UID[,UID...]]\n"
              "                 [--log-level error|warn|info|debug] [--drain-timeout SECONDS]\n"
              "\n"
              "Answers one request per line, in order, with one line:\n"
              "  (ok VALUE)                  the result's SX text\n"
              "  (error \"CODE\" \"MESSAGE\")    CODE a stable word: seq, name, cid, parse,\n"
              "                              arity, type, op, limit, io, ...\n"
              "Empty lines are ignored; after an error the requests go on.\n"
              "\n"
              "--stdio serves stdin and stdout, and ends at end of input, closing the\n"
              "store cleanly.\n"
              "\n"
              "--socket serves every client that connects to the Unix socket PATH, each\n"
              "connection its own stream of requests (clients may send many before\n"
              "reading answers). Writes from all clients share fdatasyncs. SIGTERM,\n"
              "SIGINT or SIGHUP drains: no new connections, the requests already read\n"
              "are run and answered (for up to --drain-timeout), then the store is\n"
              "closed cleanly and PATH removed; exit 0.\n"
              "(sxp/stat) asks the server for its counters (see sxp stat --socket);\n"
              "--stdio answers it too, without the figures about the socket.\n"
              "\n"
              "Options:\n"
              "  --max-line BYTES    longest request line (default 16777216); a longer\n"
              "                      line is answered (error \"limit\" ...) and skipped\n"
              "                      (--socket: and its connection closed)\n"
              "  --workers N         requests run at once (default 64)\n"
              "  --max-conns N       connections at once (default 1000, lowered to what\n"
              "                      the descriptor limit leaves beside the store's\n"
              "                      share); more are answered (error \"limit\" ...)\n"
              "                      and closed\n"
              "  --mode OCTAL        the socket's mode (default 0600; 0660 with --group)\n"
              "  --group GROUP       the socket's group, to let its members connect\n"
              "  --allow-uid LIST    only these uids or user names may connect; others\n"
              "                      get (error \"denied\" ...) (default: any who can open\n"
              "                      the socket)\n"
              "  --log-level LEVEL   what goes to stderr: error, warn, info (default: a\n"
              "                      line per connection), debug (a line per request)\n"
              "  --drain-timeout S   on SIGTERM, SIGINT or SIGHUP, drain for at most S\n"
              "                      seconds (default 10); connections still open then\n"
              "                      are closed\n"
              "\n"
              "A stale socket file (no server answers on it) is replaced; a live one is\n"
              "not (exit 1). Never listens on TCP.\n"},
    {"append", "usage: sxp append STREAM EVENT...\n"
               "       sxp append STREAM -\n"
               "\n"
               "Appends EVENT, SX text of a dict with an integer :seq above the stream's\n"
               "high-water mark, e.g. '{:seq 1 :total 9.5}'. Several events are appended\n"
               "as one batch (persist/append-batch): all of them or none. With '-' the\n"
               "events are read from stdin, one per line, as one batch; stdin without\n"
               "an event is an error. Prints nothing.\n"},
    {"read", "usage: sxp read STREAM [--from SEQ] [--limit N]\n"
             "\n"
             "Prints the stream's events, one SX dict per line, in append order. With\n"
             "--from or --limit, only the events with seq >= SEQ, at most N of them\n"
             "(persist/read-range). An unknown stream prints nothing.\n"
             "\n"
             "Long streams are read page by page, so a damaged line exits 1 after the\n"
             "events before it were printed: trust the output only on status 0.\n"},
    {"last-seq", "usage: sxp last-seq STREAM\n"
                 "\n"
                 "Prints the stream's high-water mark: the highest seq ever appended (kept\n"
                 "by truncate); 0 for an unknown stream.\n"},
    {"streams", "usage: sxp streams\n"
                "\n"
                "Prints every stream name, one per line as raw bytes, sorted by bytes.\n"
                "`sxp op '(persist/streams)'` gives them as SX strings.\n"},
    {"truncate", "usage: sxp truncate STREAM N\n"
                 "\n"
                 "Drops the stream's events with seq <= N, atomically. The high-water mark\n"
                 "stays, so later appends still need a seq above it. Prints nothing.\n"},
    {"kv", "usage: sxp kv get KEY          print the value's SX text, or nil\n"
           "       sxp kv put KEY VALUE    store VALUE (SX text), replacing any\n"
           "       sxp kv delete KEY       remove KEY (an absent key is fine)\n"
           "       sxp kv has KEY          print true or false\n"
           "       sxp kv keys             print every key, one per line, sorted\n"
           "\n"
           "KEY is the raw bytes of the argument (1 to 127 bytes). With VALUE '-' the\n"
           "value's SX text is read from stdin.\n"},
    {"blob", "usage: sxp blob put FILE|-            store the bytes, print the cid\n"
             "       sxp blob get CID [-o FILE]     write the bytes to stdout or FILE\n"
             "       sxp blob has CID               print true or false\n"
             "\n"
             "A cid names the bytes (CIDv1, raw, sha2-256, base32): putting the same\n"
             "bytes twice gives the same cid. 'blob get' of an absent blob fails\n"
             "(exit 1); a string that is not a cid is an error, never a path.\n"},
    {"recover", "usage: sxp recover\n"
                "\n"
                "Opens the store for writing, which repairs crash residue (a torn last\n"
                "line, a high-water mark behind its log, leftover temp files) when the\n"
                "store was not closed cleanly, says what happened and closes it cleanly.\n"
                "Recovery reads the logs the crashed session wrote; corruption found\n"
                "there is never repaired here: the error names the file and offset\n"
                "(exit 1); run sxp-fsck. A store that was closed cleanly is not read:\n"
                "recover says \"nothing to recover\" and exits 0. To check such a store\n"
                "for corruption, run sxp-fsck -n DIR.\n"},
    {"stat", "usage: sxp stat\n"
             "       sxp stat --socket PATH\n"
             "\n"
             "Prints the store's directory, mode, I/O backend, sync mode, whether\n"
             "opening it ran recovery, and the number of streams and kv keys (all\n"
             "of them, on disk).\n"
             "\n"
             "With --socket PATH, asks the server `sxp serve --socket PATH` runs and\n"
             "prints its figures, one \"NAME: VALUE\" per line: connections open,\n"
             "accepted and refused, requests and errors answered, requests running,\n"
             "appends, group-commit batches, fsyncs and bytes written since it began,\n"
             "and streams refusing writes after an I/O failure, and revived. Its\n"
             "\"streams\" counts the streams the server has used (appended to, read...)\n"
             "since it began, not those on disk.\n"},
    {"demo", "usage: sxp demo\n"
             "\n"
             "A short tour: appends to two streams, reads them back, truncates, uses\n"
             "the key-value table and blobs, shows a refused request, then closes,\n"
             "reopens and shows that the data survived. Each step is shown as the\n"
             "`sxp op` request that does it, and its result.\n"
             "\n"
             "Without --dir the tour runs in a new temporary directory, removed at the\n"
             "end. With --dir DIR it runs on the store in DIR and keeps it for you to\n"
             "explore; it writes the streams \"orders\" and \"audit\", the key \"config\"\n"
             "and a blob, and may run again (its seqs continue above the old ones).\n"},
};

/* The end of the overview, after its list of the global options. */
static const char cli_usage_overview_end[] =
    "\n"
    "Exit status: 0 ok, 1 the request failed (one line on stderr), 2 bad usage.\n"
    "Each command takes --help.\n";

static const struct cli_usage_page *cli_usage_find(const char *cmd)
{
    for (size_t i = 0; i < sizeof(cli_usage_pages) / sizeof(cli_usage_pages[0]); i++) {
        if (strcmp(cli_usage_pages[i].cmd, cmd) == 0)
            return &cli_usage_pages[i];
    }
    return NULL;
}

int cli_usage_print(FILE *f, const char *cmd)
{
    const struct cli_usage_page *p = cli_usage_find(cmd != NULL ? cmd : "");

    if (p == NULL)
        return -ENOENT;
    fputs(p->text, f);
    if (p->cmd[0] == '\0') {
        cli_globals_usage(f);
        fputs(cli_usage_overview_end, f);
    }
    return 0;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fputs("sxp: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (cmd != NULL && cmd[0] != '\0')
        fprintf(stderr, "\nTry 'sxp %s --help'.\n", cmd);
    else
        fputs("\nTry 'sxp --help'.\n", stderr);
    return CLI_EXIT_USAGE;
}

int cli_usage_help(const char *cmd)
{
    if (cli_usage_print(stdout, cmd) != 0)
        return cli_usage_error("", "no help for '%s'", cmd);
    return cli_flush_stdout();
}
