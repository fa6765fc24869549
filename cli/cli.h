/*
 * cli.h -- the `sxp` command, shared by its files (SPEC.md section 6).
 *
 * The command reaches the store only through the public API of sxp.h. Each
 * file holds one concept:
 *
 *   main.c       parsing the global options, and dispatch to a command
 *   globals.c    the table of the global options (--dir, --sync, --io, ...)
 *   usage.c      the help text of every command, usage errors
 *   args.c       the per-command argument parser
 *   common.c     opening the store, printing values, reporting errors
 *   line.c       the bounded line reader of `serve`
 *   answer.c     the answer line of a request, for both kinds of `serve`
 *   cmd_op.c     `sxp op` (and `op --socket`, through sock_client.c)
 *   cmd_serve.c  `sxp serve`: --stdio here, --socket in the sock_*.c files
 *   sock_*.c     the socket server and its client (sock.h says which file
 *                holds what)
 *   cmd_verbs.c  `append`, `read`, `last-seq`, `streams`, `truncate`
 *   cmd_kv.c     `kv get|put|delete|has|keys`
 *   cmd_blob.c   `blob put|get|has`
 *   cmd_admin.c  `recover`, `stat` (and `stat --socket`)
 *   cmd_demo.c   `demo`
 *
 * EXIT STATUS (SPEC.md section 6), the same for every command:
 *   0  the command did what was asked
 *   1  a request failed (malformed SX, a rule of the store, the disk, a
 *      locked or corrupt store); one line "sxp: KIND: MESSAGE" on stderr and
 *      nothing on stdout
 *   2  bad command-line usage; a line naming the problem and a hint on stderr
 */
#ifndef SXP_CLI_H
#define SXP_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sxp.h"

#define CLI_VERSION "0.1.0"

enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,
    CLI_EXIT_USAGE = 2,
};

/* What the global options chose; every command receives it. */
struct cli_global {
    const char *dir;         /* --dir, else NULL: $SX_PERSIST_DIR, else ./persist-data */
    struct sxp_options opts; /* --sync, --io, --read-only */
    const char *store_opt;   /* the first of --sync, --io, --read-only given, or NULL */
    int verbose;             /* --verbose: engine notices on stderr */
};

/* A command: argv[0] is its name, the rest its arguments. Returns an exit
 * status of enum cli_exit. */
typedef int (*cli_cmd_fn)(struct cli_global *g, int argc, char **argv);

int cli_cmd_op(struct cli_global *g, int argc, char **argv);
int cli_cmd_serve(struct cli_global *g, int argc, char **argv);
int cli_cmd_append(struct cli_global *g, int argc, char **argv);
int cli_cmd_read(struct cli_global *g, int argc, char **argv);
int cli_cmd_last_seq(struct cli_global *g, int argc, char **argv);
int cli_cmd_streams(struct cli_global *g, int argc, char **argv);
int cli_cmd_truncate(struct cli_global *g, int argc, char **argv);
int cli_cmd_kv(struct cli_global *g, int argc, char **argv);
int cli_cmd_blob(struct cli_global *g, int argc, char **argv);
int cli_cmd_recover(struct cli_global *g, int argc, char **argv);
int cli_cmd_stat(struct cli_global *g, int argc, char **argv);
int cli_cmd_demo(struct cli_global *g, int argc, char **argv);

/* ---- globals.c ---------------------------------------------------------- */

/* What a global option does. */
enum cli_globals_kind {
    CLI_GLOBALS_SET,     /* sets something in struct cli_global: goes before the command */
    CLI_GLOBALS_HELP,    /* prints the overview */
    CLI_GLOBALS_VERSION, /* prints the version */
};

/* One global option (globals.c says the rules). */
struct cli_globals_opt {
    const char *name;           /* long name without "--" */
    char short_name;            /* one letter, or 0 */
    const char *value;          /* its value as the help shows it ("DIR"), or NULL: none */
    enum cli_globals_kind kind; /* what it does */
    /* CLI_GLOBALS_SET: applies the option to g, value NULL when it is
     * missing. 0, or the status of a usage error it printed. */
    int (*set)(struct cli_global *g, const char *value);
    const char *help; /* its help in `sxp --help`, lines separated by LF */
};

/* The global option whose long name is name[0..len), or NULL. */
const struct cli_globals_opt *cli_globals_find_long(const char *name, size_t len);
/* The global option whose short name is c, or NULL. */
const struct cli_globals_opt *cli_globals_find_short(char c);
/* Writes the list of the global options of `sxp --help` to f, a line or
 * more for each, in the order of the table. */
void cli_globals_usage(FILE *f);

/* ---- usage.c ------------------------------------------------------------ */

/* Prints the help of cmd ("" or NULL: the whole command) to f. Returns 0, or
 * -ENOENT when there is no such command. */
int cli_usage_print(FILE *f, const char *cmd);
/* Prints "sxp: MESSAGE" and "Try 'sxp CMD --help'." on stderr; returns
 * CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the help of cmd on stdout; returns CLI_EXIT_OK (or CLI_EXIT_FAIL
 * when stdout cannot be written). */
int cli_usage_help(const char *cmd);

/* ---- args.c ------------------------------------------------------------- */

/* One option a command accepts. */
struct cli_optspec {
    const char *name; /* long name without "--" */
    char short_name;  /* one letter, or 0 */
    int has_value;    /* 1: takes a value (--name V, --name=V, -x V) */
};

#define CLI_ARGS_MAX_OPTS 16

/* The parsed arguments of one command. */
struct cli_args {
    int help;                           /* --help or -h was given */
    const char *val[CLI_ARGS_MAX_OPTS]; /* value of spec i, or NULL */
    int seen[CLI_ARGS_MAX_OPTS];        /* 1 when spec i was given */
    char **pos;                         /* positional arguments, malloc'd */
    int npos;
};

/* Parses argv[1..argc) of command cmd against specs[0..nspecs). An argument
 * is an option when it is "--NAME" of a spec, "--NAME=VALUE", or "-X" of a
 * spec's short name; "--help" and "-h" always are; "--" ends the options.
 * Every other argument, "-" and "-5" included, is positional. An unknown
 * "--NAME" or a missing value is a usage error: the message is printed and
 * CLI_EXIT_USAGE returned. On success returns 0; free with cli_args_free. */
int cli_args_parse(const char *cmd, const struct cli_optspec *specs, size_t nspecs, int argc,
                   char **argv, struct cli_args *out);
void cli_args_free(struct cli_args *a);
/* Reads a decimal int64 from text; 0, or -EINVAL when text is not one. */
int cli_args_int(const char *text, int64_t *out);

/* ---- common.c ----------------------------------------------------------- */

/* Opens the store the global options name. quiet is the default for engine
 * notices (--verbose turns them on). On failure prints the engine's message
 * ("sxp: locked: ...") and returns CLI_EXIT_FAIL; else 0 and *out. */
int cli_store_open(struct cli_global *g, int quiet, sxp_store **out);
/* For `CMD --socket`, which reaches a server's store rather than opening
 * one: a usage error (CLI_EXIT_USAGE) when a global option of a local store
 * was given (--dir, --sync, --io, --read-only), which the server would
 * silently ignore; else 0. */
int cli_socket_globals(const struct cli_global *g, const char *cmd);
/* Closes s; on failure prints a line and returns CLI_EXIT_FAIL, else 0. */
int cli_store_close(sxp_store *s);
/* Prints "sxp: KIND: MESSAGE" for err on stderr; returns CLI_EXIT_FAIL. */
int cli_report(const struct sxp_err *err);
/* Prints "sxp: KIND: printf-message" on stderr; returns CLI_EXIT_FAIL. */
int cli_fail(const char *kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes the canonical text of v and a newline to f. 0 or -errno; err says
 * why. */
int cli_print_value(FILE *f, const sxp_value *v, struct sxp_err *err);
/* Prints the text of v and a newline on stdout and flushes; returns an exit
 * status, having reported any failure. */
int cli_output_value(const sxp_value *v);
/* Writes the raw bytes of string v and a newline to f. 0 or -errno. */
int cli_print_raw(FILE *f, const sxp_value *v);
/* Runs op with the n arguments given (taking ownership of each, NULL ones
 * included, which mean out of memory). *out: the result. 0 or -errno, err
 * saying why. When *s is NULL the request is first checked without a store
 * (sxp_op_check) and only then is the store of g opened (quiet) into *s,
 * which the caller closes: a wrong request gets the error the store would
 * give, and no store is created for it. */
int cli_run(struct cli_global *g, sxp_store **s, const char *op, sxp_value **out,
            struct sxp_err *err, size_t n, ...);
/* A new string value holding the bytes of the C string text. */
sxp_value *cli_str(const char *text);
/* Flushes stdout; on failure prints a line and returns CLI_EXIT_FAIL. */
int cli_flush_stdout(void);
/* Reads all of f into a malloc'd buffer (NUL-terminated, *out_len without
 * the NUL). 0 or -errno: the read's own errno (-EISDIR when f is a
 * directory), -EIO when it left none. */
int cli_read_all(FILE *f, size_t max, char **out, size_t *out_len);
/* 1 when signal sig is ignored (SIG_IGN) in this process, as nohup leaves
 * SIGHUP: the servers then leave it ignored rather than drain on it. */
int cli_signal_ignored(int sig);

/* ---- answer.c ----------------------------------------------------------- */

/* One answer line (answer.c says its format). text ends in LF and is
 * NUL-terminated; len counts the LF, not the NUL. */
struct cli_answer {
    char *text;
    size_t len;
    int owned;        /* 1: text is malloc'd (cli_answer_free frees it) */
    int failed;       /* 1: an (error ...) answer */
    const char *kind; /* the error's kind word, or NULL for (ok ...) */
};

/* These never fail: when memory runs out the answer becomes the fixed
 * (error "nomem" ...) line. Free the answer with cli_answer_free. */
/* Runs the request line[0..len) through sxp_store_request and answers. */
void cli_answer_run(sxp_store *s, const char *line, size_t len, struct cli_answer *out);
/* (ok VALUE) for v. */
void cli_answer_ok(const sxp_value *v, struct cli_answer *out);
/* (error "KIND" "MSG"). */
void cli_answer_error(const char *kind, const char *msg, struct cli_answer *out);
/* The error answer of err. */
void cli_answer_of_err(const struct sxp_err *err, struct cli_answer *out);
void cli_answer_free(struct cli_answer *a); /* accepts NULL */
/* 1 when line[0..len) holds only spaces, TABs and CRs: no request. */
int cli_answer_blank(const char *line, size_t len);

/* ---- line.c ------------------------------------------------------------- */

/* A reader of lines of at most max bytes (the LF not counted). */
struct cli_line {
    char *buf;  /* the line, NUL-terminated, without its LF */
    size_t len; /* bytes in buf */
    size_t cap;
    size_t max;
    int too_long; /* 1: the line was longer than max and was skipped whole */
    int ended;    /* 1: an LF ended it (0: the end of input, or an error) */
};

/* Reads the next line of f. Returns 1 when a line was read (possibly
 * too_long, then buf is empty), 0 at end of input, or -errno. A last line
 * without LF is a line. Bytes are kept as read, NUL included. */
int cli_line_read(FILE *f, struct cli_line *l);
void cli_line_free(struct cli_line *l);

#endif
