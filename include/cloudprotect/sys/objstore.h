/*
 * libcloudprotect - the object store interface. The repository format
 * reads and writes only through it, so every format feature works on
 * every store. Stores are versioned tables of operations like providers.
 *
 * Keys are relative to the store's root (the URL's prefix) and use '/'
 * as separator: "config", "data/3f/3f0c...". A store must be safe to use
 * from several threads at once.
 */
#ifndef CLOUDPROTECT_SYS_OBJSTORE_H
#define CLOUDPROTECT_SYS_OBJSTORE_H

#include "../common.h"

CP_BEGIN_DECL

/** A growable byte buffer; ptr is NUL-terminated past size when non-NULL. */
typedef struct cp_buf {
	char *ptr;
	size_t size;
	size_t asize;
} cp_buf;

#define CP_BUF_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

CP_EXTERN(int) cp_buf_grow(cp_buf *buf, size_t target_size);
CP_EXTERN(int) cp_buf_put(cp_buf *buf, const void *data, size_t len);
CP_EXTERN(void) cp_buf_clear(cp_buf *buf);
CP_EXTERN(void) cp_buf_dispose(cp_buf *buf);

typedef struct cp_object_info {
	uint64_t size;
	int64_t mtime;		/**< unix seconds */
	int64_t retain_until;	/**< unix seconds the object is locked until, 0 = not locked */
	int archived;		/**< needs a rehydrate before it can be read */
	char storage_class[32]; /**< "" when the store has none */
} cp_object_info;

typedef struct cp_put_options {
	unsigned int version;
	int create_only;	   /**< fail with CP_EEXISTS when the key exists */
	int64_t retain_until;	   /**< lock the object until then (unix s), 0 = no */
	const char *storage_class; /**< NULL: the store's default */
} cp_put_options;

#define CP_PUT_OPTIONS_VERSION 1
#define CP_PUT_OPTIONS_INIT                                                                        \
	{                                                                                          \
		CP_PUT_OPTIONS_VERSION, 0, 0, NULL                                                 \
	}

/** Receives one listed key (relative to the store root); non-zero stops. */
typedef int (*cp_object_list_cb)(const char *key, const cp_object_info *info, void *payload);

typedef struct cp_objstore_writer cp_objstore_writer;

/**
 * A streaming upload. The object becomes visible, whole, only when
 * commit succeeds; free without commit leaves nothing visible.
 */
struct cp_objstore_writer {
	unsigned int version;
	int (*write)(cp_objstore_writer *self, const void *data, size_t len);
	int (*commit)(cp_objstore_writer *self);
	void (*free)(cp_objstore_writer *self);
};

#define CP_OBJSTORE_WRITER_VERSION 1

/** What a repository asks of its store; checked at create and open. */
typedef struct cp_objstore_settings {
	unsigned int version;
	const char *storage_class;   /**< class for data packs; NULL: the store's standard */
	unsigned int immutable_days; /**< objects are locked; 0 = no locks wanted */
} cp_objstore_settings;

#define CP_OBJSTORE_SETTINGS_VERSION 1
#define CP_OBJSTORE_SETTINGS_INIT                                                                  \
	{                                                                                          \
		CP_OBJSTORE_SETTINGS_VERSION, NULL, 0                                              \
	}

typedef struct cp_objstore_ops {
	unsigned int version;
	const char *scheme; /**< URL scheme: "file", "s3", "azblob", "gs" */
	const char *description;

	/** Open the store a URL names; create: make its root if missing. */
	int (*open)(void **state, cp_ctx *ctx, const char *url, int create);
	void (*close)(void *state);

	/** Write a whole object atomically. */
	int (*put)(void *state, const char *key, const void *data, size_t len,
		   const cp_put_options *opts);
	/** Read length bytes at offset (length 0: to the end) into out. CP_ENOTFOUND if absent. */
	int (*get)(void *state, const char *key, uint64_t offset, uint64_t length, cp_buf *out);
	int (*head)(void *state, const char *key, cp_object_info *info);
	/** List keys starting with prefix, in no particular order. */
	int (*list)(void *state, const char *prefix, cp_object_list_cb cb, void *payload);
	/** Delete; CP_ENOTFOUND if absent, CP_ELOCKED while retained. */
	int (*remove)(void *state, const char *key);
	/** Start a streaming upload (large objects). */
	int (*writer_open)(void *state, const char *key, const cp_put_options *opts,
			   cp_objstore_writer **out);

	/* Version 2. */
	/**
	 * Refuse, with an error naming the rule and the fix, settings this
	 * store cannot honour (a storage class it refuses, immutability on a
	 * bucket without object lock). create: at repository creation, else
	 * at open. NULL: the store has no classes and no locks, and the core
	 * refuses both.
	 */
	int (*check_settings)(void *state, const cp_objstore_settings *settings, int create);
	/** Extend an object's lock to until (unix s); never shortens one. */
	int (*retain)(void *state, const char *key, int64_t until);
	/**
	 * Ask for an archived object to be made readable for days; tier is
	 * the store's retrieval tier ("Expedited", "Standard", "Bulk", ...).
	 * Returns 0 once requested (or already readable); poll head() for
	 * archived == 0.
	 */
	int (*rehydrate)(void *state, const char *key, const char *tier, unsigned int days);

	/* Version 3. */
	/**
	 * Abort the unfinished uploads (multipart uploads, uncommitted blocks)
	 * under prefix that started before older_than (unix s), which a killed
	 * writer leaves behind: invisible to list and get, but billed. *count
	 * receives how many were aborted. NULL: the store leaves none behind.
	 */
	int (*abort_stale_uploads)(void *state, const char *prefix, int64_t older_than,
				   uint64_t *count);
	/**
	 * The minimum storage duration, in days, that the store bills for an
	 * object of storage_class ("" or NULL: the store's default class):
	 * deleting it sooner costs the remaining days anyway. 0: none. NULL:
	 * no class of the store has one.
	 */
	unsigned int (*min_storage_days)(void *state, const char *storage_class);
} cp_objstore_ops;

#define CP_OBJSTORE_OPS_VERSION 3

/** Register a store backend under ops->scheme. */
CP_EXTERN(int) cp_objstore_register(const cp_objstore_ops *ops);

/** An open store: the core's handle around a backend's state. */
typedef struct cp_objstore cp_objstore;

CP_EXTERN(int) cp_objstore_open(cp_objstore **out, cp_ctx *ctx, const char *url, int create);
CP_EXTERN(void) cp_objstore_close(cp_objstore *store);
CP_EXTERN(const char *) cp_objstore_url(const cp_objstore *store);
CP_EXTERN(int)
cp_objstore_put(cp_objstore *store, const char *key, const void *data, size_t len,
		const cp_put_options *opts);
CP_EXTERN(int)
cp_objstore_get(cp_objstore *store, const char *key, uint64_t offset, uint64_t length, cp_buf *out);
CP_EXTERN(int) cp_objstore_head(cp_objstore *store, const char *key, cp_object_info *info);
CP_EXTERN(int)
cp_objstore_list(cp_objstore *store, const char *prefix, cp_object_list_cb cb, void *payload);
CP_EXTERN(int) cp_objstore_remove(cp_objstore *store, const char *key);
/** Streaming upload; falls back to buffering and put() for stores without writers. */
CP_EXTERN(int)
cp_objstore_writer_open(cp_objstore *store, const char *key, const cp_put_options *opts,
			cp_objstore_writer **out);
CP_EXTERN(int) cp_objstore_writer_write(cp_objstore_writer *writer, const void *data, size_t len);
CP_EXTERN(int) cp_objstore_writer_commit(cp_objstore_writer *writer);
CP_EXTERN(void) cp_objstore_writer_free(cp_objstore_writer *writer);
/** Check repository settings against the store (see check_settings above). */
CP_EXTERN(int)
cp_objstore_check_settings(cp_objstore *store, const cp_objstore_settings *settings, int create);
/** CP_EUNSUPPORTED when the store cannot lock objects. */
CP_EXTERN(int) cp_objstore_retain(cp_objstore *store, const char *key, int64_t until);
/** CP_EUNSUPPORTED when the store has no archive tier. */
CP_EXTERN(int)
cp_objstore_rehydrate(cp_objstore *store, const char *key, const char *tier, unsigned int days);
/** Abort unfinished uploads under prefix older than older_than; 0 with *count 0 if none. */
CP_EXTERN(int)
cp_objstore_abort_stale_uploads(cp_objstore *store, const char *prefix, int64_t older_than,
				uint64_t *count);
/** Minimum billed storage days of a class (0: none, or the store does not say). */
CP_EXTERN(unsigned int)
cp_objstore_min_storage_days(cp_objstore *store, const char *storage_class);
/** The store's URL scheme ("s3", "azblob", "gs", "file", ...). */
CP_EXTERN(const char *) cp_objstore_scheme(const cp_objstore *store);

CP_END_DECL

#endif
