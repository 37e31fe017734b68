/*
 * Manifests (`manifests/<sha256>`): one per backup.
 *
 *   "CPMF" u8 version(1) 3 zero bytes || u32le H || sealed(header JSON) [H bytes]
 *      || sealed(chunk map)
 *
 * The header is sealed with the first 8 bytes as AAD; the map with those
 * 8 bytes followed by the SHA-256 of the sealed header, so a map cannot
 * be moved under another header. Listing backups needs only the header,
 * fetched with one ranged read.
 *
 * Map plaintext: u64le count, then count entries of 40 bytes: u64le
 * chunk index, chunk id[32]; indexes strictly increasing; holes absent.
 */
#ifndef CP_FORMAT_MANIFEST_H
#define CP_FORMAT_MANIFEST_H

#include "cloudprotect/provider.h"
#include "cloudprotect/sys/objstore.h"
#include "format/codec.h"

#define CP_MANIFEST_MAGIC      "CPMF"
#define CP_MANIFEST_VERSION    1
#define CP_MANIFEST_PREFIX_LEN 12
#define CP_MANIFEST_ENTRY_SIZE 40
#define CP_MANIFEST_MAX_HEADER (1u << 20)
#define CP_MANIFEST_MAX_DISK   (1ull << 56)
/** A ranged read this long holds the whole header of nearly every manifest. */
#define CP_MANIFEST_HEADER_GUESS 8192

typedef struct cp_map_entry {
	uint64_t index;
	uint8_t id[CP_ID_LEN];
} cp_map_entry;

typedef struct cp_manifest {
	char *source, *provider, *snapshot_id, *instance_id, *group_id;
	char *parent, *hostname, *copied_from;
	int64_t time;	   /* unix seconds the backup started */
	int64_t time_nsec; /* and nanoseconds, so backups within a second keep their order */
	uint64_t size, data_bytes, new_bytes, new_chunks, read_bytes;
	uint32_t chunk_size;
	cp_tag *tags; /* keys and values malloc'd */
	size_t ntags;
	uint64_t nchunks;  /* entries in the map (from the header) */
	cp_map_entry *map; /* NULL when only the header was read */
} cp_manifest;

void cp_manifest_dispose(cp_manifest *m);

/** Deep-copy tags into m. */
int cp_manifest_set_tags(cp_manifest *m, const cp_tag *tags, size_t ntags);

/** Header JSON (appends to out). */
int cp_manifest_header_encode(const cp_manifest *m, cp_buf *out);
/** Parse header JSON into m (which it resets). CP_ECORRUPT (error set) when invalid. */
int cp_manifest_header_parse(cp_manifest *m, const char *json, size_t len);

/** Map plaintext (appends to out). */
int cp_manifest_map_encode(const cp_map_entry *map, uint64_t n, cp_buf *out);
/** Parse a map of m->nchunks entries for a disk of m->size bytes into m->map. */
int cp_manifest_map_parse(cp_manifest *m, const uint8_t *p, size_t len);

/** The whole object, sealed with codec (replaces out's contents). */
int cp_manifest_encode(cp_codec *codec, const cp_manifest *m, cp_buf *out);

/**
 * Decode an object (or, with header_only, at least its first
 * CP_MANIFEST_PREFIX_LEN + H bytes). *need receives the byte count the
 * header needs when p is too short (then CP_EINVALID is returned without
 * an error set). Failures of authentication are CP_ECORRUPT with the
 * error set (without the object name; callers prefix it).
 */
int cp_manifest_decode(cp_codec *codec, const uint8_t *p, size_t len, int header_only,
		       cp_manifest *out, size_t *need);

#endif
