/*
 * Little-endian integers, hex, and a bounds-checked reader for parsing
 * repository objects. Every parser of untrusted bytes goes through
 * cp_rd so that a short or hostile object can never read past its end.
 */
#ifndef CP_FORMAT_BYTES_H
#define CP_FORMAT_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void cp_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void cp_put_le64(uint8_t *p, uint64_t v)
{
	cp_put_le32(p, (uint32_t)v);
	cp_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t cp_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t cp_get_le64(const uint8_t *p)
{
	return (uint64_t)cp_get_le32(p) | (uint64_t)cp_get_le32(p + 4) << 32;
}

/** Write 2n lowercase hex digits and a NUL into out. */
void cp_hex_encode(char *out, const uint8_t *in, size_t n);
/** Decode exactly 2n hex digits (and nothing more); 0 or -1. */
int cp_hex_decode(uint8_t *out, const char *in, size_t n);
/** 1 when s is exactly 64 lowercase hex digits (an object name). */
int cp_is_hex_id(const char *s);

/** A cursor over untrusted bytes; any read past the end sets bad. */
typedef struct cp_rd {
	const uint8_t *p;
	size_t left;
	int bad;
} cp_rd;

static inline const uint8_t *cp_rd_take(cp_rd *r, size_t n)
{
	if (r->bad || n > r->left) {
		r->bad = 1;
		return NULL;
	}
	const uint8_t *at = r->p;
	r->p += n;
	r->left -= n;
	return at;
}

static inline uint32_t cp_rd_u32(cp_rd *r)
{
	const uint8_t *p = cp_rd_take(r, 4);
	return p ? cp_get_le32(p) : 0;
}

static inline uint64_t cp_rd_u64(cp_rd *r)
{
	const uint8_t *p = cp_rd_take(r, 8);
	return p ? cp_get_le64(p) : 0;
}

static inline void cp_rd_copy(cp_rd *r, void *out, size_t n)
{
	const uint8_t *p = cp_rd_take(r, n);
	if (p)
		memcpy(out, p, n);
	else
		memset(out, 0, n);
}

#endif
