/*
 * check_seq.c -- a stream's .seq: readable, present beside its log
 * (INV-4) and not below the log's max seq (INV-3). fsck_read_seq runs
 * before the log's check (which uses the mark for R-3c), fsck_check_seq
 * after it, since it needs the max the log's check found.
 */
#include <errno.h>
#include <stdio.h>

#include "fsck_int.h"
#include "layout.h"

int fsck_read_seq(struct fsck_ctx *c, struct fsck_item *it)
{
    char path[PATH_MAX], text[LAYOUT_SEQ_MAX_TEXT + 1];
    size_t len = 0;
    int rc = 0;
    if (it->has_seq) {
        if (fsck_path(c, it->rel_seq, path)) {
            fsck_item_fail(it, -ENAMETOOLONG, "open", it->rel_seq);
            return -ENAMETOOLONG;
        }
        rc = fsck_read_small(c, path, text, LAYOUT_SEQ_MAX_TEXT, &len);
        if (rc == 0 && layout_seq_parse(text, len, &it->hw) == 0) {
            it->hw_state = 1;
        } else if (rc == 0 || rc == -E2BIG) {
            it->hw_state = 2;
            struct fsck_finding f = {.code = FSCK_SEQ_UNREADABLE,
                                     .file = it->rel_seq,
                                     .len = rc == 0 ? len : 0,
                                     .a = rc == -E2BIG};
            rc = fsck_flist_add(&it->f, &f);
        } else {
            fsck_item_fail(it, rc, "read", path);
            return rc;
        }
    }
    return rc;
}

int fsck_check_seq(struct fsck_ctx *c, struct fsck_item *it)
{
    (void)c;
    int rc = 0;
    if (!it->has_log || it->failed)
        return rc;
    int64_t max = it->have_max ? it->max : 0;
    if (!it->has_seq) {
        struct fsck_finding f = {.code = FSCK_SEQ_MISSING, .file = it->rel_seq, .b = max};
        rc = fsck_flist_add(&it->f, &f);
    } else if (it->hw_state == 1 && it->hw < max) {
        struct fsck_finding f = {
            .code = FSCK_HW_BEHIND, .file = it->rel_seq, .a = it->hw, .b = max};
        rc = fsck_flist_add(&it->f, &f);
    }
    return rc;
}
