/*
 * Document backups: a small byte string (a network configuration, say)
 * stored as a backup of its own. The bytes take the normal image path
 * through an in-memory block reader, so they are chunked, deduplicated,
 * compressed and encrypted like any disk; the manifest's "content-type"
 * tag is what marks a backup as a document.
 */
#include "cloudprotect/backup.h"
#include "cloudprotect/sys/provider.h"
#include "format/manifest_io.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

/* Documents are read whole into memory on restore: keep them modest. */
#define DOCUMENT_MAX_BYTES (64ull << 20)
#define DOCUMENT_TAG	   "content-type"

typedef struct {
	cp_block_reader base;
	const unsigned char *data;
} mem_reader;

typedef struct {
	cp_block_writer base;
	unsigned char *data;
} mem_writer;

static int mem_read(cp_block_reader *self, uint64_t offset, void *buf, size_t len)
{
	mem_reader *r = (mem_reader *)self;
	memcpy(buf, r->data + offset, len);
	return 0;
}

static void mem_reader_free(cp_block_reader *self)
{
	(void)self; /* lives on the caller's stack */
}

static int mem_write(cp_block_writer *self, uint64_t offset, const void *buf, size_t len)
{
	mem_writer *w = (mem_writer *)self;
	memcpy(w->data + offset, buf, len);
	return 0;
}

static int mem_commit(cp_block_writer *self, char **id_out)
{
	(void)self;
	*id_out = NULL;
	return 0;
}

static void mem_writer_free(cp_block_writer *self)
{
	(void)self; /* the buffer belongs to cp_document_restore */
}

static int too_large(uint64_t len, const char *what)
{
	return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
			    "%s is %llu bytes, more than the %llu MiB a document backup may hold; "
			    "back large data up as an image (cp_backup_create) instead",
			    what, (unsigned long long)len, DOCUMENT_MAX_BYTES >> 20);
}

int cp_document_backup(char **backup_id, cp_repository *repo, const char *content_type,
		       const void *data, size_t len, const cp_backup_options *opts)
{
	*backup_id = NULL;
	if (!content_type || !*content_type)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "a document backup needs a content type (e.g. "
				    "\"application/json\")");
	if (!data && len)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "document data is NULL but its length is %zu", len);
	if (len > DOCUMENT_MAX_BYTES)
		return too_large(len, "the document");
	if (!opts)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "a document backup needs cp_backup_options with a source "
				    "naming what the document describes");

	/* The caller's tags, with ours replacing any content-type they set. */
	cp_tag *tags = calloc(opts->ntags + 1, sizeof(*tags));
	if (!tags)
		return cp_error_oom();
	size_t n = 0;
	for (size_t i = 0; i < opts->ntags; i++)
		if (opts->tags[i].key && strcmp(opts->tags[i].key, DOCUMENT_TAG))
			tags[n++] = opts->tags[i];
	tags[n].key = DOCUMENT_TAG;
	tags[n++].value = content_type;

	cp_backup_options o = *opts;
	o.tags = tags;
	o.ntags = n;
	/* A document is always whole: changed ranges of a disk make no sense here. */
	o.changed = NULL;
	o.nchanged = 0;
	o.have_changed = 0;

	mem_reader r;
	memset(&r, 0, sizeof(r));
	r.base.version = CP_BLOCK_READER_VERSION;
	r.base.size = len;
	r.base.block_size = 4096;
	r.base.read = mem_read;
	r.base.free = mem_reader_free;
	r.data = data;
	int rc = cp_backup_create(backup_id, NULL, repo, &r.base, &o);
	free(tags);
	return rc;
}

static const char *manifest_tag(const cp_manifest *m, const char *key)
{
	for (size_t i = 0; i < m->ntags; i++)
		if (!strcmp(m->tags[i].key, key))
			return m->tags[i].value;
	return NULL;
}

int cp_document_restore(void **data, size_t *len, cp_repository *repo, const char *backup_id)
{
	*data = NULL;
	*len = 0;
	char *id = NULL;
	int rc = cp_backup_resolve(&id, repo, backup_id, NULL);
	if (rc)
		return rc;
	cp_manifest m;
	memset(&m, 0, sizeof(m));
	rc = cp_repo_manifest_load(repo, id, 1, 0, &m);
	if (!rc && !manifest_tag(&m, DOCUMENT_TAG))
		rc = cp_error_set(CP_EINVALID, CP_ERRCLASS_REPOSITORY,
				  "backup %s (of %s) is a disk image, not a document; restore it "
				  "with `cloudprotect restore` (cp_restore) instead",
				  id, m.source ? m.source : "an unnamed source");
	if (!rc && m.size > DOCUMENT_MAX_BYTES)
		rc = too_large(m.size, "the document in this backup");
	mem_writer w;
	memset(&w, 0, sizeof(w));
	if (!rc && !(w.data = calloc(1, (size_t)m.size + 1)))
		rc = cp_error_oom();
	if (!rc) {
		w.base.version = CP_BLOCK_WRITER_VERSION;
		w.base.size = m.size;
		w.base.block_size = 4096;
		w.base.write = mem_write;
		w.base.commit = mem_commit;
		w.base.free = mem_writer_free;
		/* Holes need no writing: calloc'd memory already reads as zeros. */
		rc = cp_restore(repo, id, &w.base, NULL);
	}
	if (!rc) {
		*data = w.data;
		*len = (size_t)m.size;
	} else {
		free(w.data);
	}
	cp_manifest_dispose(&m);
	free(id);
	return rc;
}
