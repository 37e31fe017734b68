/*
 * The repository handle and the object-level helpers every operation
 * uses: object keys, content-addressed puts and verified gets, sealed
 * index objects, and the in-memory index with its refresh.
 */
#ifndef CP_FORMAT_REPOSITORY_H
#define CP_FORMAT_REPOSITORY_H

#include "cloudprotect/repository.h"
#include "cloudprotect/sys/objstore.h"
#include "format/codec.h"
#include "format/config.h"
#include "format/index_object.h"
#include "format/index_table.h"

#include <pthread.h>

#define CP_KEY_MAX 96 /* "data/xx/<64 hex>" and the like, with room to spare */

/* Where each kind of object lives. */
#define CP_DIR_KEYS	 "keys"
#define CP_DIR_DATA	 "data"
#define CP_DIR_INDEX	 "index"
#define CP_DIR_MANIFESTS "manifests"
#define CP_DIR_LOCKS	 "locks"

struct cp_repository {
	cp_ctx *ctx;
	cp_objstore *store;
	char *url;
	cp_config config;
	cp_master_keys keys;
	char hostname[256];

	/* The chunk index as of the last refresh; readers take the lock shared. */
	pthread_rwlock_t index_lock;
	cp_index_table index;
	char (*index_names)[CP_HEX_ID_LEN + 1]; /* loaded index objects, sorted */
	size_t nindex_names;

	/* Locks: lifetime and refresh period in seconds (tests shorten them). */
	int64_t lock_ttl;
	int64_t lock_refresh;
};

/** "dir/<name>", or "data/<first two>/<name>" for packs. */
void cp_repo_key(char out[CP_KEY_MAX], const char *dir, const char *name);

/** Options for writing a new immutable object of this repository. */
void cp_repo_put_options(const cp_repository *repo, const char *dir, cp_put_options *opts);

/**
 * Store data under dir/<sha256(data)>; *name_out receives the hex name.
 * An object already there with that name holds the same bytes, so
 * CP_EEXISTS counts as success.
 */
int cp_repo_put_named(cp_repository *repo, const char *dir, const void *data, size_t len,
		      char name_out[CP_HEX_ID_LEN + 1]);

/**
 * Read dir/name whole and check that its SHA-256 is its name;
 * CP_ECORRUPT naming the object when not.
 */
int cp_repo_get_named(cp_repository *repo, const char *dir, const char *name, cp_buf *out);

/** A codec with this repository's key and compression level. */
int cp_repo_codec(const cp_repository *repo, cp_codec *codec);

/** An index object from packs (replaces out's contents). */
int cp_index_object_encode(cp_codec *codec, const cp_index_pack *packs, size_t npacks, cp_buf *out);

/** Decode an index object; CP_ECORRUPT (error set) when it does not authenticate or parse. */
int cp_index_object_decode(cp_codec *codec, const uint8_t *p, size_t len, cp_index_pack_cb cb,
			   void *payload);

/** Load index objects written since the last refresh (all again if some vanished). */
int cp_repo_index_refresh(cp_repository *repo);

/** Where a chunk is: its location and pack id. CP_ENOTFOUND (error not set) when unknown. */
int cp_repo_index_lookup(cp_repository *repo, const uint8_t id[CP_ID_LEN], cp_chunk_loc *loc,
			 uint8_t pack_id[CP_ID_LEN]);

/**
 * After storing index object name listing packs, add it to the in-memory
 * index so that the next refresh does not read it again.
 */
int cp_repo_index_merge(cp_repository *repo, const char *name, const cp_index_pack *packs,
			size_t npacks);

#endif
