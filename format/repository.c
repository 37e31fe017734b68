/* Repository handles: create, open, close, info, and object I/O helpers. */
#include "format/repository.h"
#include "format/bytes.h"
#include "format/keyfile.h"

#include "ctx.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_LOCK_TTL     (30 * 60)
#define DEFAULT_LOCK_REFRESH (5 * 60)

void cp_repo_key(char out[CP_KEY_MAX], const char *dir, const char *name)
{
	if (!strcmp(dir, CP_DIR_DATA))
		snprintf(out, CP_KEY_MAX, "%s/%.2s/%s", dir, name, name);
	else
		snprintf(out, CP_KEY_MAX, "%s/%s", dir, name);
}

void cp_repo_put_options(const cp_repository *repo, const char *dir, cp_put_options *opts)
{
	cp_put_options init = CP_PUT_OPTIONS_INIT;
	*opts = init;
	opts->create_only = 1;
	/* Only packs go to the configured (maybe archive) class: metadata stays hot, so
	 * listing and planning a restore never waits for a thaw. */
	if (repo->config.storage_class[0] && !strcmp(dir, CP_DIR_DATA))
		opts->storage_class = repo->config.storage_class;
	if (repo->config.immutable_days)
		opts->retain_until =
			(int64_t)time(NULL) + 86400 * (int64_t)repo->config.immutable_days;
}

int cp_repo_put_named(cp_repository *repo, const char *dir, const void *data, size_t len,
		      char name_out[CP_HEX_ID_LEN + 1])
{
	char key[CP_KEY_MAX];
	cp_put_options opts;
	cp_sha256_hex(data, len, name_out);
	cp_repo_key(key, dir, name_out);
	cp_repo_put_options(repo, dir, &opts);
	int rc = cp_objstore_put(repo->store, key, data, len, &opts);
	if (rc == CP_EEXISTS) {
		cp_error_clear();
		rc = 0;
	}
	return rc ? cp_error_prefix(rc, "storing '%s': ", key) : 0;
}

int cp_repo_get_named(cp_repository *repo, const char *dir, const char *name, cp_buf *out)
{
	char key[CP_KEY_MAX], hex[CP_HEX_ID_LEN + 1];
	cp_repo_key(key, dir, name);
	int rc = cp_objstore_get(repo->store, key, 0, 0, out);
	if (rc)
		return rc;
	cp_sha256_hex(out->ptr, out->size, hex);
	if (strcmp(hex, name))
		return cp_error_set(CP_ECORRUPT, CP_ERRCLASS_REPOSITORY,
				    "object '%s' is damaged: its SHA-256 is %s (truncated or "
				    "modified); run `cloudprotect check`",
				    key, hex);
	return 0;
}

int cp_repo_codec(const cp_repository *repo, cp_codec *codec)
{
	return cp_codec_init(codec, repo->keys.enc, repo->config.compression_level);
}

static const uint8_t index_prefix[8] = {'C', 'P', 'I', 'X', CP_INDEX_VERSION, 0, 0, 0};

int cp_index_object_encode(cp_codec *codec, const cp_index_pack *packs, size_t npacks, cp_buf *out)
{
	cp_buf body = CP_BUF_INIT, sealed = CP_BUF_INIT;
	int rc = cp_index_body_encode(packs, npacks, &body);
	if (!rc)
		rc = cp_codec_seal(codec, index_prefix, 8, body.ptr, body.size, 1, &sealed);
	cp_buf_clear(out);
	if (!rc)
		rc = cp_buf_put(out, index_prefix, 8);
	if (!rc)
		rc = cp_buf_put(out, sealed.ptr, sealed.size);
	cp_buf_dispose(&body);
	cp_buf_dispose(&sealed);
	return rc;
}

#define MAX_INDEX_BODY (1ull << 31)

int cp_index_object_decode(cp_codec *codec, const uint8_t *p, size_t len, cp_index_pack_cb cb,
			   void *payload)
{
	if (len < 8 || memcmp(p, CP_INDEX_MAGIC, 4))
		return cp_error_set(CP_ECORRUPT, CP_ERRCLASS_REPOSITORY,
				    "index is invalid: it does not start with \"CPIX\"");
	if (p[4] != CP_INDEX_VERSION)
		return cp_error_set(CP_EUNSUPPORTED, CP_ERRCLASS_REPOSITORY,
				    "index version %u is not supported; upgrade libcloudprotect",
				    p[4]);
	cp_buf body = CP_BUF_INIT;
	int rc = cp_codec_open(codec, p, 8, p + 8, len - 8, MAX_INDEX_BODY, 0, &body);
	if (rc == CP_ECORRUPT)
		rc = cp_error_set(CP_ECORRUPT, CP_ERRCLASS_REPOSITORY,
				  "index does not authenticate (damaged, truncated, or another "
				  "repository's)");
	if (!rc)
		rc = cp_index_body_parse((const uint8_t *)body.ptr, body.size, cb, payload);
	cp_buf_dispose(&body);
	return rc;
}

/* ---- the in-memory index ---- */

static int add_pack_cb(const cp_index_pack *pack, void *payload)
{
	cp_index_table *t = payload;
	uint32_t n;
	int rc = cp_index_table_add_pack(t, pack->id, pack->size, &n);
	for (size_t i = 0; !rc && i < pack->n; i++) {
		const cp_pack_entry *e = &pack->entries[i];
		cp_chunk_loc loc = {n, e->offset, e->length, e->raw_length};
		rc = cp_index_table_insert(t, e->id, &loc, NULL, NULL);
	}
	return rc;
}

typedef struct {
	char (*names)[CP_HEX_ID_LEN + 1];
	size_t n, cap;
} name_list;

static int collect_name(const char *key, const cp_object_info *info, void *payload)
{
	name_list *l = payload;
	const char *slash = strrchr(key, '/');
	const char *name = slash ? slash + 1 : key;
	if (!cp_is_hex_id(name))
		return 0; /* not ours (or a store's temporary); ignore */
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		void *p = realloc(l->names, cap * sizeof(*l->names));
		if (!p)
			return cp_error_oom();
		l->names = p;
		l->cap = cap;
	}
	memcpy(l->names[l->n++], name, CP_HEX_ID_LEN + 1);
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int name_known(const cp_repository *repo, const char *name)
{
	return repo->nindex_names && bsearch(name, repo->index_names, repo->nindex_names,
					     sizeof(*repo->index_names), cmp_name) != NULL;
}

static int load_index(cp_repository *repo, cp_codec *codec, cp_index_table *t, const char *name,
		      const cp_buf *prefetched, cp_buf *buf)
{
	int rc = 0;
	if (prefetched && prefetched->ptr)
		buf = (cp_buf *)prefetched; /* only read from here on */
	else
		rc = cp_repo_get_named(repo, CP_DIR_INDEX, name, buf);
	if (!rc)
		rc = cp_index_object_decode(codec, (const uint8_t *)buf->ptr, buf->size,
					    add_pack_cb, t);
	if (rc == CP_ECORRUPT || rc == CP_EUNSUPPORTED || rc == CP_ENOTFOUND) {
		/* Skip it: chunks it lists are stored again, and check reports it. */
		cp_log(repo->ctx, CP_LOG_WARN, "skipping index %s: %s", name,
		       cp_error_last() ? cp_error_last()->message : "unreadable");
		cp_error_clear();
		rc = 0;
	}
	return rc;
}

/*
 * Opening a repository spends most of its time in the password KDF
 * (scrypt, ~0.1 s by design). A helper thread lists and reads the index
 * objects meanwhile; they are encrypted, so they are decoded only after
 * the key is known. At most PREFETCH_MAX bytes are held, so a huge
 * index does not raise peak memory: the rest is read as before.
 */
#define PREFETCH_MAX (16u << 20)

typedef struct {
	cp_repository *repo;
	pthread_t thread;
	int started, listed;
	name_list names; /* sorted; handed to the refresh */
	cp_buf *bufs;	 /* bufs[i] holds names[i] when its ptr is set */
	size_t nbufs;
} index_prefetch;

static void *prefetch_main(void *arg)
{
	index_prefetch *pf = arg;
	cp_repository *repo = pf->repo;
	if (!cp_objstore_list(repo->store, CP_DIR_INDEX "/", collect_name, &pf->names)) {
		if (pf->names.n)
			qsort(pf->names.names, pf->names.n, sizeof(*pf->names.names), cmp_name);
		pf->listed = 1;
		pf->bufs = calloc(pf->names.n ? pf->names.n : 1, sizeof(*pf->bufs));
		pf->nbufs = pf->bufs ? pf->names.n : 0;
		size_t total = 0;
		for (size_t i = 0; i < pf->nbufs && total < PREFETCH_MAX; i++) {
			/* A failure here is met again, and reported, by the refresh. */
			if (cp_repo_get_named(repo, CP_DIR_INDEX, pf->names.names[i], &pf->bufs[i]))
				cp_buf_dispose(&pf->bufs[i]);
			total += pf->bufs[i].size;
		}
	}
	cp_error_clear(); /* thread-local errors are not freed at thread exit */
	return NULL;
}

static void prefetch_start(index_prefetch *pf, cp_repository *repo)
{
	memset(pf, 0, sizeof(*pf));
	pf->repo = repo;
	/* Optional: without the thread, the refresh reads everything itself. */
	pf->started = !pthread_create(&pf->thread, NULL, prefetch_main, pf);
}

static void prefetch_join(index_prefetch *pf)
{
	if (pf->started)
		pthread_join(pf->thread, NULL);
	pf->started = 0;
}

static void prefetch_dispose(index_prefetch *pf)
{
	prefetch_join(pf);
	for (size_t i = 0; i < pf->nbufs; i++)
		cp_buf_dispose(&pf->bufs[i]);
	free(pf->bufs);
	free(pf->names.names);
	memset(pf, 0, sizeof(*pf));
}

static const cp_buf *prefetched(const index_prefetch *pf, size_t i)
{
	return pf && pf->bufs ? &pf->bufs[i] : NULL;
}

/* pf: a joined prefetch whose listing (when it has one) stands for a fresh one. */
static int index_refresh(cp_repository *repo, index_prefetch *pf)
{
	name_list l = {0};
	int rc = 0;
	if (pf && pf->listed) {
		l = pf->names;
		memset(&pf->names, 0, sizeof(pf->names));
	} else {
		pf = NULL;
		rc = cp_objstore_list(repo->store, CP_DIR_INDEX "/", collect_name, &l);
		if (rc) {
			free(l.names);
			return cp_error_prefix(rc, "listing the repository's indexes: ");
		}
		if (l.n)
			qsort(l.names, l.n, sizeof(*l.names), cmp_name);
	}

	/* Start over when an index we loaded is gone: prune replaced it. */
	size_t present = 0;
	for (size_t i = 0; i < l.n; i++)
		present += name_known(repo, l.names[i]);
	int full = present != repo->nindex_names;

	cp_index_table fresh;
	cp_index_table *t = &repo->index;
	if (full) {
		if ((rc = cp_index_table_init(&fresh))) {
			free(l.names);
			return rc;
		}
		t = &fresh;
	}
	cp_codec codec;
	cp_buf buf = CP_BUF_INIT;
	rc = cp_repo_codec(repo, &codec);
	pthread_rwlock_wrlock(&repo->index_lock);
	for (size_t i = 0; !rc && i < l.n; i++)
		if (full || !name_known(repo, l.names[i]))
			rc = load_index(repo, &codec, t, l.names[i], prefetched(pf, i), &buf);
	if (!rc) {
		if (full) {
			cp_index_table_dispose(&repo->index);
			repo->index = fresh;
		}
		free(repo->index_names);
		repo->index_names = l.names;
		repo->nindex_names = l.n;
		l.names = NULL;
	} else if (full) {
		cp_index_table_dispose(&fresh);
	}
	pthread_rwlock_unlock(&repo->index_lock);
	cp_codec_dispose(&codec);
	cp_buf_dispose(&buf);
	free(l.names);
	return rc;
}

int cp_repo_index_refresh(cp_repository *repo)
{
	return index_refresh(repo, NULL);
}

int cp_repo_index_lookup(cp_repository *repo, const uint8_t id[CP_ID_LEN], cp_chunk_loc *loc,
			 uint8_t pack_id[CP_ID_LEN])
{
	int rc = CP_ENOTFOUND;
	pthread_rwlock_rdlock(&repo->index_lock);
	const cp_index_entry *e = cp_index_table_find(&repo->index, id);
	if (e && e->loc.pack < repo->index.npacks) {
		*loc = e->loc;
		if (pack_id)
			memcpy(pack_id, repo->index.packs[e->loc.pack].id, CP_ID_LEN);
		rc = 0;
	}
	pthread_rwlock_unlock(&repo->index_lock);
	return rc;
}

int cp_repo_index_merge(cp_repository *repo, const char *name, const cp_index_pack *packs,
			size_t npacks)
{
	int rc = 0;
	pthread_rwlock_wrlock(&repo->index_lock);
	for (size_t i = 0; !rc && i < npacks; i++)
		rc = add_pack_cb(&packs[i], &repo->index);
	if (!rc && !name_known(repo, name)) {
		void *p = realloc(repo->index_names,
				  (repo->nindex_names + 1) * sizeof(*repo->index_names));
		if (!p) {
			rc = cp_error_oom();
		} else {
			repo->index_names = p;
			memcpy(repo->index_names[repo->nindex_names++], name, CP_HEX_ID_LEN + 1);
			qsort(repo->index_names, repo->nindex_names, sizeof(*repo->index_names),
			      cmp_name);
		}
	}
	pthread_rwlock_unlock(&repo->index_lock);
	return rc;
}

/* ---- create and open ---- */

static int repo_new(cp_repository **out, cp_ctx *ctx, const char *url, int create)
{
	cp_repository *r = calloc(1, sizeof(*r));
	if (!r)
		return cp_error_oom();
	if (!(r->url = strdup(url))) {
		free(r);
		return cp_error_oom();
	}
	r->ctx = ctx;
	r->lock_ttl = DEFAULT_LOCK_TTL;
	r->lock_refresh = DEFAULT_LOCK_REFRESH;
	if (gethostname(r->hostname, sizeof(r->hostname) - 1))
		snprintf(r->hostname, sizeof(r->hostname), "localhost");
	pthread_rwlock_init(&r->index_lock, NULL);
	int rc = cp_index_table_init(&r->index);
	if (!rc)
		rc = cp_objstore_open(&r->store, ctx, url, create);
	if (rc) {
		cp_error_saved saved;
		cp_error_save(&saved);
		cp_repository_close(r);
		cp_error_restore(&saved);
		return rc;
	}
	*out = r;
	return 0;
}

void cp_repository_close(cp_repository *repo)
{
	if (!repo)
		return;
	cp_objstore_close(repo->store);
	cp_index_table_dispose(&repo->index);
	pthread_rwlock_destroy(&repo->index_lock);
	cp_wipe(&repo->keys, sizeof(repo->keys));
	free(repo->index_names);
	free(repo->url);
	free(repo);
}

static int is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static int check_create_options(const cp_repository_create_options *o)
{
	if (o->version != CP_REPOSITORY_CREATE_OPTIONS_VERSION)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "cp_repository_create_options version %u is not supported "
				    "(this library knows %u)",
				    o->version, CP_REPOSITORY_CREATE_OPTIONS_VERSION);
	if (o->chunk_size && (!is_pow2(o->chunk_size) || o->chunk_size < CP_MIN_CHUNK_SIZE ||
			      o->chunk_size > CP_MAX_CHUNK_SIZE))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "chunk size %u is not a power of two from 1 KiB to 64 MiB; "
				    "the default 512 KiB matches EBS direct blocks",
				    o->chunk_size);
	if (o->pack_size && (o->pack_size < CP_MIN_PACK_SIZE || o->pack_size > CP_MAX_PACK_SIZE))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "pack size %u is outside 4 KiB to 1 GiB; the default is 16 MiB",
				    o->pack_size);
	if (o->compression_level < 0 || o->compression_level > 22)
		return cp_error_set(
			CP_EINVALID, CP_ERRCLASS_INVALID,
			"compression level %d is outside 1 to 22 (0 means the default, 3)",
			o->compression_level);
	if (o->kdf_n && (!is_pow2(o->kdf_n) || o->kdf_n < 2 || o->kdf_n > CP_KDF_MAX_N))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "scrypt N %llu is not a power of two from 2 to 2^22",
				    (unsigned long long)o->kdf_n);
	if (o->storage_class && strlen(o->storage_class) >= 32)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "storage class '%s' is too long", o->storage_class);
	if (o->immutable_days > CP_MAX_IMMUTABLE_DAYS)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "%u immutable days is more than 100 years", o->immutable_days);
	return 0;
}

static int need_password(const char *password)
{
	if (!password || !*password)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "no repository password given; set CLOUDPROTECT_PASSWORD or "
				    "use --password-file");
	return 0;
}

int cp_repository_create(cp_repository **out, cp_ctx *ctx, const char *url, const char *password,
			 const cp_repository_create_options *opts)
{
	cp_repository_create_options defaults = CP_REPOSITORY_CREATE_OPTIONS_INIT;
	*out = NULL;
	if (!opts)
		opts = &defaults;
	int rc = check_create_options(opts);
	if (!rc)
		rc = need_password(password);
	if (rc)
		return rc;
	cp_repository *r = NULL;
	if ((rc = repo_new(&r, ctx, url, 1)))
		return rc;
	cp_object_info info;
	rc = cp_objstore_head(r->store, "config", &info);
	if (rc == 0) {
		rc = cp_error_set(CP_EEXISTS, CP_ERRCLASS_REPOSITORY,
				  "a repository already exists at '%s'; open it instead, or choose "
				  "another location",
				  url);
	} else if (rc == CP_ENOTFOUND) {
		cp_error_clear();
		rc = 0;
	}
	if (!rc) {
		cp_objstore_settings settings = CP_OBJSTORE_SETTINGS_INIT;
		settings.storage_class = opts->storage_class;
		settings.immutable_days = opts->immutable_days;
		rc = cp_objstore_check_settings(r->store, &settings, 1);
	}

	cp_config *c = &r->config;
	c->version = CP_FORMAT_VERSION;
	c->chunk_size = opts->chunk_size ? opts->chunk_size : CP_DEFAULT_CHUNK_SIZE;
	c->pack_size = opts->pack_size ? opts->pack_size : CP_DEFAULT_PACK_SIZE;
	c->compression_level =
		opts->compression_level ? opts->compression_level : CP_DEFAULT_ZSTD_LEVEL;
	c->immutable_days = opts->immutable_days;
	c->created = (int64_t)time(NULL);
	if (opts->storage_class)
		snprintf(c->storage_class, sizeof(c->storage_class), "%s", opts->storage_class);
	uint8_t rid[CP_ID_LEN], digest[CP_ID_LEN];
	if (!rc)
		rc = cp_random(rid, sizeof(rid));
	if (!rc)
		rc = cp_random(&r->keys, sizeof(r->keys));
	cp_hex_encode(c->id, rid, sizeof(rid));

	cp_buf cfg = CP_BUF_INIT, key = CP_BUF_INIT;
	cp_keyfile kf;
	char key_name[CP_HEX_ID_LEN + 1] = "";
	if (!rc)
		rc = cp_config_write(c, &cfg);
	if (!rc) {
		cp_sha256(cfg.ptr, cfg.size, digest);
		rc = cp_keyfile_make(&kf, password, opts->kdf_n ? opts->kdf_n : CP_KDF_DEFAULT_N,
				     &r->keys, digest);
	}
	if (!rc)
		rc = cp_keyfile_write(&kf, &key);
	if (!rc)
		rc = cp_repo_put_named(r, CP_DIR_KEYS, key.ptr, key.size, key_name);
	if (!rc) {
		/* The config goes last and only if absent: of two racing creators one wins.
		 * Locked like the key: backups extend both as far as their data (retain.c). */
		cp_put_options po;
		cp_repo_put_options(r, CP_DIR_KEYS, &po);
		rc = cp_objstore_put(r->store, "config", cfg.ptr, cfg.size, &po);
		if (rc) {
			char k[CP_KEY_MAX];
			cp_error_saved saved;
			cp_error_save(&saved);
			cp_repo_key(k, CP_DIR_KEYS, key_name);
			cp_objstore_remove(r->store, k);
			cp_error_restore(&saved);
			if (rc == CP_EEXISTS)
				rc = cp_error_set(CP_EEXISTS, CP_ERRCLASS_REPOSITORY,
						  "a repository already exists at '%s'", url);
		}
	}
	cp_buf_dispose(&cfg);
	cp_buf_dispose(&key);
	if (rc) {
		cp_error_saved saved;
		cp_error_save(&saved);
		cp_repository_close(r);
		cp_error_restore(&saved);
		return rc;
	}
	cp_log(ctx, CP_LOG_INFO, "created repository %s at %s", c->id, url);
	*out = r;
	return 0;
}

typedef struct {
	cp_repository *repo;
	const char *password;
	const cp_buf *config;
	int tried, opened;
	int rc;
} unlock_state;

static int try_key(const char *key, const cp_object_info *info, void *payload)
{
	unlock_state *u = payload;
	const char *name = strrchr(key, '/');
	if (!name || !cp_is_hex_id(name + 1))
		return 0;
	cp_buf text = CP_BUF_INIT;
	cp_keyfile kf;
	uint8_t digest[CP_ID_LEN], want[CP_ID_LEN];
	int rc = cp_repo_get_named(u->repo, CP_DIR_KEYS, name + 1, &text);
	if (!rc)
		rc = cp_keyfile_parse(&kf, text.ptr, text.size);
	cp_buf_dispose(&text);
	if (rc) {
		cp_log(u->repo->ctx, CP_LOG_WARN, "skipping key file %s: %s", key,
		       cp_error_last() ? cp_error_last()->message : "unreadable");
		return 0;
	}
	u->tried++;
	rc = cp_keyfile_unlock(&kf, u->password, &u->repo->keys, digest);
	if (rc == CP_EPASSWORD)
		return 0;
	if (rc) {
		u->rc = rc;
		return rc;
	}
	cp_sha256(u->config->ptr, u->config->size, want);
	if (memcmp(digest, want, CP_ID_LEN)) {
		u->rc = cp_error_set(CP_ECORRUPT, CP_ERRCLASS_REPOSITORY,
				     "the repository's config does not match the one its key "
				     "(%s) was made for: it was modified or replaced; restore the "
				     "original 'config' object",
				     key);
		return u->rc;
	}
	u->opened = 1;
	return 1; /* stop listing */
}

int cp_repository_open(cp_repository **out, cp_ctx *ctx, const char *url, const char *password)
{
	*out = NULL;
	int rc = need_password(password);
	if (rc)
		return rc;
	cp_repository *r = NULL;
	if ((rc = repo_new(&r, ctx, url, 0)))
		return rc;
	cp_buf cfg = CP_BUF_INIT;
	rc = cp_objstore_get(r->store, "config", 0, 0, &cfg);
	if (rc == CP_ENOTFOUND)
		rc = cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_REPOSITORY,
				  "no repository at '%s' (it has no 'config' object); create one "
				  "with `cloudprotect repo init`",
				  url);
	if (!rc)
		rc = cp_config_parse(&r->config, cfg.ptr, cfg.size);
	if (!rc) {
		/* The store may have changed under the repository (lock switched off, class gone). */
		cp_objstore_settings settings = CP_OBJSTORE_SETTINGS_INIT;
		settings.storage_class =
			r->config.storage_class[0] ? r->config.storage_class : NULL;
		settings.immutable_days = r->config.immutable_days;
		rc = cp_objstore_check_settings(r->store, &settings, 0);
	}
	index_prefetch pf;
	memset(&pf, 0, sizeof(pf));
	if (!rc)
		prefetch_start(&pf, r);
	unlock_state u = {r, password, &cfg, 0, 0, 0};
	if (!rc) {
		rc = cp_objstore_list(r->store, CP_DIR_KEYS "/", try_key, &u);
		if (rc == 1)
			rc = 0;
		if (!rc && u.rc)
			rc = u.rc;
	}
	if (!rc && !u.opened)
		rc = u.tried ? cp_error_set(CP_EPASSWORD, CP_ERRCLASS_REPOSITORY,
					    "wrong password for the repository at '%s': none of "
					    "its %d key(s) opens with it",
					    url, u.tried)
			     : cp_error_set(CP_ECORRUPT, CP_ERRCLASS_REPOSITORY,
					    "the repository at '%s' has no readable key file "
					    "under keys/; it cannot be opened",
					    url);
	prefetch_join(&pf);
	if (!rc)
		rc = index_refresh(r, &pf);
	prefetch_dispose(&pf);
	cp_buf_dispose(&cfg);
	if (rc) {
		cp_error_saved saved;
		cp_error_save(&saved);
		cp_repository_close(r);
		cp_error_restore(&saved);
		return rc;
	}
	*out = r;
	return 0;
}

int cp_repository_info_get(cp_repository *repo, cp_repository_info *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->id, repo->config.id, sizeof(out->id));
	out->format_version = repo->config.version;
	out->chunk_size = repo->config.chunk_size;
	out->pack_size = repo->config.pack_size;
	out->compression_level = repo->config.compression_level;
	out->immutable_days = repo->config.immutable_days;
	memcpy(out->storage_class, repo->config.storage_class, sizeof(out->storage_class));
	out->created = repo->config.created;
	return 0;
}
