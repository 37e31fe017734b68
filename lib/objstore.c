/* Public object store API: finds the backend for a URL's scheme and dispatches. */
#include "cloudprotect/sys/objstore.h"
#include "cancel.h"
#include "error.h"
#include "registry.h"

#include <stdlib.h>
#include <string.h>

struct cp_objstore {
	const cp_objstore_ops *ops;
	void *state;
	char *url;
};

int cp_objstore_open(cp_objstore **out, cp_ctx *ctx, const char *url, int create)
{
	*out = NULL;
	int rc = cp_registry_init();
	if (rc)
		return rc;
	const char *sep = url ? strstr(url, "://") : NULL;
	if (!sep || sep == url || (size_t)(sep - url) >= 16)
		return cp_error_set(
			CP_EINVALID, CP_ERRCLASS_INVALID,
			"'%s' is not a repository URL; use file:///path, s3://bucket/prefix, "
			"azblob://account/container/prefix or gs://bucket/prefix",
			url ? url : "(none)");
	char scheme[16];
	memcpy(scheme, url, (size_t)(sep - url));
	scheme[sep - url] = '\0';
	const cp_objstore_ops *ops = cp_registry_objstore(scheme);
	if (!ops)
		return cp_error_set(CP_EUNSUPPORTED, CP_ERRCLASS_OBJSTORE,
				    "no object store for '%s://' URLs is available in this build "
				    "(repository URL '%s')",
				    scheme, url);
	cp_objstore *s = calloc(1, sizeof(*s));
	if (!s || !(s->url = strdup(url))) {
		free(s);
		return cp_error_oom();
	}
	s->ops = ops;
	rc = ops->open(&s->state, ctx, url, create);
	if (rc) {
		free(s->url);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void cp_objstore_close(cp_objstore *store)
{
	if (!store)
		return;
	if (store->ops->close)
		store->ops->close(store->state);
	free(store->url);
	free(store);
}

const char *cp_objstore_url(const cp_objstore *store)
{
	return store->url;
}

int cp_objstore_put(cp_objstore *store, const char *key, const void *data, size_t len,
		    const cp_put_options *opts)
{
	cp_put_options defaults = CP_PUT_OPTIONS_INIT;
	return store->ops->put(store->state, key, data, len, opts ? opts : &defaults);
}

int cp_objstore_get(cp_objstore *store, const char *key, uint64_t offset, uint64_t length,
		    cp_buf *out)
{
	cp_buf_clear(out);
	return store->ops->get(store->state, key, offset, length, out);
}

int cp_objstore_head(cp_objstore *store, const char *key, cp_object_info *info)
{
	memset(info, 0, sizeof(*info));
	return store->ops->head(store->state, key, info);
}

int cp_objstore_list(cp_objstore *store, const char *prefix, cp_object_list_cb cb, void *payload)
{
	return store->ops->list(store->state, prefix ? prefix : "", cb, payload);
}

int cp_objstore_remove(cp_objstore *store, const char *key)
{
	return store->ops->remove(store->state, key);
}

/* For stores without streaming uploads: collect the object, then put() it. */
typedef struct {
	cp_objstore_writer base;
	cp_objstore *store;
	char *key;
	cp_put_options opts;
	cp_buf data;
} buffered_writer;

static int buffered_write(cp_objstore_writer *self, const void *data, size_t len)
{
	return cp_buf_put(&((buffered_writer *)self)->data, data, len);
}

static int buffered_commit(cp_objstore_writer *self)
{
	buffered_writer *w = (buffered_writer *)self;
	return cp_objstore_put(w->store, w->key, w->data.ptr, w->data.size, &w->opts);
}

static void buffered_free(cp_objstore_writer *self)
{
	buffered_writer *w = (buffered_writer *)self;
	cp_buf_dispose(&w->data);
	free(w->key);
	free(w);
}

int cp_objstore_writer_open(cp_objstore *store, const char *key, const cp_put_options *opts,
			    cp_objstore_writer **out)
{
	cp_put_options defaults = CP_PUT_OPTIONS_INIT;
	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (store->ops->writer_open)
		return store->ops->writer_open(store->state, key, opts, out);
	buffered_writer *w = calloc(1, sizeof(*w));
	if (!w || !(w->key = strdup(key))) {
		free(w);
		return cp_error_oom();
	}
	w->base.version = CP_OBJSTORE_WRITER_VERSION;
	w->base.write = buffered_write;
	w->base.commit = buffered_commit;
	w->base.free = buffered_free;
	w->store = store;
	w->opts = *opts;
	w->opts.storage_class = NULL; /* not kept past this call */
	*out = &w->base;
	return 0;
}

int cp_objstore_writer_write(cp_objstore_writer *writer, const void *data, size_t len)
{
	return writer->write(writer, data, len);
}

int cp_objstore_writer_commit(cp_objstore_writer *writer)
{
	return writer->commit(writer);
}

void cp_objstore_writer_free(cp_objstore_writer *writer)
{
	if (!writer)
		return;
	/* Aborting an unfinished upload must still reach the store after a cancel. */
	const atomic_int *watched = cp_cancel_watch(NULL);
	writer->free(writer);
	cp_cancel_watch(watched);
}

/* Operations of table version 2 and later: call only when the table has them. */
#define HAS_OP(store, op, min_version) ((store)->ops->version >= (min_version) && (store)->ops->op)

int cp_objstore_check_settings(cp_objstore *store, const cp_objstore_settings *settings, int create)
{
	if (HAS_OP(store, check_settings, 2))
		return store->ops->check_settings(store->state, settings, create);
	if (settings->storage_class && *settings->storage_class)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_OBJSTORE,
				    "%s:// repositories have no storage classes; drop the storage "
				    "class '%s' or use an s3://, azblob:// or gs:// repository",
				    store->ops->scheme, settings->storage_class);
	if (settings->immutable_days)
		return cp_error_set(
			CP_EUNSUPPORTED, CP_ERRCLASS_OBJSTORE,
			"%s:// repositories cannot lock objects, so --immutable-days "
			"cannot be honoured; use s3:// on a bucket created with Object "
			"Lock, azblob:// with version-level immutability, or gs:// with "
			"object retention",
			store->ops->scheme);
	return 0;
}

int cp_objstore_retain(cp_objstore *store, const char *key, int64_t until)
{
	if (!HAS_OP(store, retain, 2))
		return cp_error_set(CP_EUNSUPPORTED, CP_ERRCLASS_OBJSTORE,
				    "%s:// repositories cannot lock objects", store->ops->scheme);
	return store->ops->retain(store->state, key, until);
}

int cp_objstore_rehydrate(cp_objstore *store, const char *key, const char *tier, unsigned int days)
{
	if (!HAS_OP(store, rehydrate, 2))
		return cp_error_set(CP_EUNSUPPORTED, CP_ERRCLASS_OBJSTORE,
				    "%s:// repositories have no archive tier to rehydrate from",
				    store->ops->scheme);
	return store->ops->rehydrate(store->state, key, tier, days);
}

int cp_objstore_abort_stale_uploads(cp_objstore *store, const char *prefix, int64_t older_than,
				    uint64_t *count)
{
	*count = 0;
	if (!HAS_OP(store, abort_stale_uploads, 3))
		return 0;
	return store->ops->abort_stale_uploads(store->state, prefix, older_than, count);
}

unsigned int cp_objstore_min_storage_days(cp_objstore *store, const char *storage_class)
{
	if (!HAS_OP(store, min_storage_days, 3))
		return 0;
	return store->ops->min_storage_days(store->state, storage_class ? storage_class : "");
}

const char *cp_objstore_scheme(const cp_objstore *store)
{
	return store->ops->scheme;
}
