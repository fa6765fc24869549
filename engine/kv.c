/*
 * kv.c -- the key-value store: one framed value per file in kv/ (frame.h,
 * layout.h).
 *
 * kv-put writes a temp file in kv/, fdatasyncs it, renames it over
 * kv/<hex(key)> and fsyncs kv/ (io_write_atomic): a reader sees the old
 * value or the new one, never a mix, and an acknowledged put survives power
 * loss. kv-delete unlinks and fsyncs kv/. Values are verified on read: a
 * checksum mismatch is an error, not a nil. A failed directory fsync after
 * the rename or unlink fences kv/ (ST-7 in store_int.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commit.h"
#include "err.h"
#include "frame.h"
#include "names.h"
#include "store_int.h"
#include "sx.h"

/* ST-7: after a failed directory fsync, kv/ refuses access until reopen. */
static int kv_fence_check(sxp_store *s, struct sxp_err *err)
{
    return store_check_fence(&s->kv_d, err);
}

/* The key's path; the key is checked before the fence (ST-7): an argument
 * is judged before the store's state, as dispatch.c's checks are. */
static int kv_path_of(sxp_store *s, const char *key, size_t len, char *out, struct sxp_err *err)
{
    int rc = layout_check_name("key", key, len, LAYOUT_KEY_MAX, err);
    if (rc)
        return rc;
    rc = kv_fence_check(s, err);
    if (rc)
        return rc;
    rc = layout_kv_path(s->root, key, len, out);
    if (rc)
        return err_set(err, rc, "kv path too long");
    return 0;
}

int sxp_kv_get(sxp_store *s, const char *key, size_t key_len, sxp_value **out, struct sxp_err *err)
{
    char path[PATH_MAX];
    char *text = NULL;
    size_t len = 0;
    struct frame_line ln;
    *out = NULL;
    int rc = kv_path_of(s, key, key_len, path, err);
    if (rc)
        return rc;
    rc = io_read_file(s->io, path, COMMIT_MAX_LINE, &text, &len);
    if (rc == -ENOENT) {
        *out = sxp_value_nil();
        return *out ? 0 : err_set(err, -ENOMEM, "out of memory");
    }
    if (rc == -E2BIG)
        return err_set(err, -EUCLEAN, "%s: larger than any value sxp writes; run sxp-fsck", path);
    if (rc)
        return err_set(err, rc, "read %s: %s", path, strerror(-rc));
    frame_decode_whole(text, len, &ln);
    if (ln.status == FRAME_BLANK) {
        /* No checksum to fail: nothing sxp or the reference writes (a
         * value's text is never empty), as sxp-fsck says (kv-corrupt). */
        rc = err_set(err, -EUCLEAN, "%s: empty value (no text) at byte 0; run sxp-fsck", path);
        goto out;
    }
    if (ln.status != FRAME_OK && ln.status != FRAME_LEGACY) {
        rc = err_set(err, -EBADMSG, "%s: %s at byte 0; run sxp-fsck", path,
                     frame_status_name(ln.status));
        goto out;
    }
    rc = sx_parse(ln.payload, ln.payload_len, out, NULL);
    if (rc)
        rc = err_set(err, -EUCLEAN, "%s: unparsable value; run sxp-fsck", path);
out:
    free(text);
    return rc;
}

int kv_encode(const sxp_value *v, struct buf *out, struct sxp_err *err)
{
    /* A served kv-get answers (ok value): the value must fit inside it. */
    int rc =
        sx_serialize_nested(v, 1, "value", "a served kv-get's (ok ...) takes the last", out, err);
    if (rc)
        return rc;
    if (out->len + FRAME_TRAILER_LEN > COMMIT_MAX_LINE)
        return err_set(err, -E2BIG, "value of %zu bytes is over the limit of %zu", out->len,
                       COMMIT_MAX_LINE - FRAME_TRAILER_LEN);
    rc = buf_reserve(out, FRAME_TRAILER_LEN);
    if (rc)
        return err_set(err, rc, "out of memory");
    out->len = frame_encode(out->p, out->len, out->p);
    return 0;
}

int sxp_kv_put(sxp_store *s, const char *key, size_t key_len, const sxp_value *value,
               struct sxp_err *err)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    struct buf b = BUF_INIT;
    /* The arguments first (the key, then the value), then the store. */
    int rc = layout_check_name("key", key, key_len, LAYOUT_KEY_MAX, err);
    if (!rc)
        rc = kv_encode(value, &b, err);
    if (!rc)
        rc = store_check_writable(s, err);
    if (!rc)
        rc = kv_path_of(s, key, key_len, path, err);
    if (rc)
        goto out;
    rc = layout_tmp_path(s->kv_dir, tmp);
    uint64_t mark = store_dir_mark(&s->kv_d);
    if (!rc)
        rc = store_write_replace(s, path, tmp, b.p, b.len, s->opt.sync == SXP_SYNC_ALWAYS);
    if (!rc)
        rc = store_fsync_dir(s, &s->kv_d, mark); /* fences kv/ when it fails */
    if (rc)
        err_set(err, rc, "write %s: %s", path, strerror(-rc));
    else if (s->opt.sync == SXP_SYNC_ALWAYS)
        store_count_syncs(s, 2); /* the temp file's data, then kv/ */
out:
    buf_free(&b);
    return rc;
}

int sxp_kv_delete(sxp_store *s, const char *key, size_t key_len, struct sxp_err *err)
{
    char path[PATH_MAX];
    int rc = kv_path_of(s, key, key_len, path, err);
    if (!rc)
        rc = store_check_writable(s, err);
    if (rc)
        return rc;
    uint64_t mark = store_dir_mark(&s->kv_d);
    rc = s->io->unlink(s->io, path);
    if (rc == -ENOENT && s->opt.sync != SXP_SYNC_ALWAYS)
        return 0;
    if (rc && rc != -ENOENT)
        return err_set(err, rc, "unlink %s: %s", path, strerror(-rc));
    /* The unlink is acknowledged only once the directory entry's removal
     * is durable; otherwise the old value could come back after a crash.
     * A failure fences kv/ (ST-7). */
    if (s->opt.sync == SXP_SYNC_ALWAYS) {
        rc = store_fsync_dir(s, &s->kv_d, mark);
        if (rc)
            return err_set(err, rc, "fsync %s: %s", s->kv_dir, strerror(-rc));
        store_count_syncs(s, 1);
    }
    return 0;
}

int sxp_kv_has(sxp_store *s, const char *key, size_t key_len, int *out, struct sxp_err *err)
{
    char path[PATH_MAX];
    int rc = kv_path_of(s, key, key_len, path, err);
    if (rc)
        return rc;
    rc = s->io->stat(s->io, path, NULL, NULL);
    if (rc == 0 || rc == -ENOENT) {
        *out = rc == 0;
        return 0;
    }
    return err_set(err, rc, "stat %s: %s", path, strerror(-rc));
}

static int kv_keys_add(void *arg, const char *fname, int is_dir)
{
    char key[LAYOUT_KEY_MAX];
    size_t len;
    size_t flen = strlen(fname);
    if (is_dir || flen == 0 || flen > 2 * LAYOUT_KEY_MAX ||
        layout_hex_decode(fname, flen, key, &len) != 0)
        return 0; /* temp and foreign files are fsck's business */
    return names_add(arg, key, len);
}

int sxp_kv_keys(sxp_store *s, sxp_value **out, struct sxp_err *err)
{
    struct names ns = {0};
    *out = NULL;
    int rc = kv_fence_check(s, err);
    if (rc)
        return rc;
    rc = s->io->list_dir(s->io, s->kv_dir, kv_keys_add, &ns);
    if (rc == -ENOENT)
        rc = 0;
    if (rc)
        err_set(err, rc, "list %s: %s", s->kv_dir, strerror(-rc));
    else
        rc = names_to_list(&ns, out, err);
    names_free(&ns);
    return rc;
}
