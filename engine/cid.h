/*
 * cid.h -- blob ids (SPEC.md section 5).
 *
 * A cid is CIDv1 (0x01), codec raw (0x55), multihash sha2-256 (0x12, length
 * 0x20, 32 digest bytes): 36 bytes, written as multibase base32 lowercase
 * without padding behind the prefix 'b', 59 characters in all. The empty
 * input's cid is bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku.
 *
 * CID-1  cid_valid accepts exactly the strings cid_of can produce for some
 *        digest: length 59, 'b', base32 alphabet [a-z2-7], decoding to the
 *        four header bytes above and a 32-byte digest, with zero pad bits.
 *        Nothing else (no '/', '.', upper case) is ever made into a path.
 */
#ifndef SXP_CID_H
#define SXP_CID_H

#include <stddef.h>

#include "sxp.h"

/* out: SXP_CID_LEN characters and a NUL. */
void cid_of(const void *bytes, size_t len, char out[SXP_CID_LEN + 1]);
/* 1 if s[0..len) is a well-formed cid (CID-1), else 0. */
int cid_valid(const char *s, size_t len);
/* 0 when the NUL-terminated cid is well-formed (CID-1), else -EINVAL,
 * kind "cid", with a message quoting it. */
int cid_check(const char *cid, struct sxp_err *err);
/* The 32-byte sha2-256 digest inside a valid cid. Returns 0 or -EINVAL. */
int cid_digest(const char *cid, unsigned char out[32]);

#endif
