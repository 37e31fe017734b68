/*
 * Reading a snapshot's blocks through EBS direct: ListSnapshotBlocks for
 * what is allocated, GetSnapshotBlock (checksum verified) for the bytes,
 * ListChangedBlocks for incrementals.
 *
 * GetSnapshotBlock needs the block's token from ListSnapshotBlocks. Holding
 * every token costs hundreds of bytes a block (GiBs for a large volume), so
 * the reader keeps only a few pages: a read looks its block up in the cached
 * pages and, on a miss, lists one page starting at that block
 * (StartingBlockIndex). The engine reads chunks roughly in order, so one
 * page of ebs_page_size blocks serves many reads; the cost is one listing
 * call per page per pass, and a block absent from the page that covers it
 * is known to be a hole (read as zeros) without asking.
 *
 * Each GetSnapshotBlock waits a round trip, so the reader asks the engine
 * for max_block_requests reads in flight (reads_in_flight); the limiter
 * still decides how many really go out. When those reads all miss the
 * cache at once, one of them lists the page and the others wait for it,
 * rather than listing the same page 32 times.
 */
#include "ctx.h"
#include "error.h"
#include "http/url.h"
#include "json.h"
#include "provider_aws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHED_PAGES 8

typedef struct block_page {
	uint64_t first, end; /* the block indexes this page answers for: [first, end) */
	size_t count;
	uint64_t *index;
	char **token;
	uint64_t used; /* for least-recently-used eviction */
} block_page;

typedef struct ebs_reader {
	cp_block_reader base;
	aws_provider *p;
	char *snapshot_id;
	uint64_t nblocks;
	pthread_mutex_t mu;	 /* guards pages and tick */
	pthread_mutex_t listing; /* one page listing at a time */
	block_page pages[CACHED_PAGES];
	uint64_t tick;
	ebs_limiter limiter;
} ebs_reader;

static void page_dispose(block_page *pg)
{
	for (size_t i = 0; i < pg->count; i++)
		free(pg->token[i]);
	free(pg->token);
	free(pg->index);
	memset(pg, 0, sizeof(*pg));
}

/*
 * One ListSnapshotBlocks page: from start (pagination token NULL) or from a
 * token. *next gets the NextToken (malloc'd) or NULL at the end.
 */
static int list_page(aws_provider *p, const char *snapshot_id, uint64_t start, const char *token,
		     block_page *pg, char **next, uint64_t *volume_gib)
{
	char path[4096];
	cp_buf enc = CP_BUF_INIT;
	if (token && cp_url_encode(&enc, token, strlen(token), ""))
		return cp_error_oom();
	if (token)
		snprintf(path, sizeof(path), "/snapshots/%s/blocks?maxResults=%u&pageToken=%s",
			 snapshot_id, p->ebs_page_size, enc.ptr);
	else
		snprintf(path, sizeof(path),
			 "/snapshots/%s/blocks?maxResults=%u&startingBlockIndex=%llu", snapshot_id,
			 p->ebs_page_size, (unsigned long long)start);
	cp_buf_dispose(&enc);
	memset(pg, 0, sizeof(*pg));
	*next = NULL;
	ebs_req r;
	int rc = ebs_req_init(&r, p, "GET", path, "EBS ListSnapshotBlocks");
	if (!rc) {
		r.http.idempotency = CP_HTTP_IDEMPOTENT;
		rc = ebs_req_perform(p, &r, snapshot_id);
	}
	yajl_val doc = NULL;
	rc = rc ? rc : cp_json_parse(&doc, r.body.ptr ? r.body.ptr : "", "EBS ListSnapshotBlocks");
	ebs_req_dispose(&r);
	if (rc)
		return rc;
	int64_t gib = 0, bs = 0;
	cp_json_int(doc, "VolumeSize", &gib, 0);
	cp_json_int(doc, "BlockSize", &bs, EBS_BLOCK_SIZE);
	if (volume_gib)
		*volume_gib = (uint64_t)gib;
	if (bs != EBS_BLOCK_SIZE) {
		yajl_tree_free(doc);
		return cp_error_set(CP_EUNSUPPORTED, CP_ERRCLASS_PROVIDER,
				    "snapshot %s lists blocks of %lld bytes; only %u is supported",
				    snapshot_id, (long long)bs, EBS_BLOCK_SIZE);
	}
	yajl_val blocks = cp_json_get(doc, "Blocks");
	size_t n = YAJL_IS_ARRAY(blocks) ? blocks->u.array.len : 0;
	pg->index = calloc(n ? n : 1, sizeof(uint64_t));
	pg->token = calloc(n ? n : 1, sizeof(char *));
	if (!pg->index || !pg->token)
		rc = cp_error_oom();
	for (size_t i = 0; !rc && i < n; i++) {
		yajl_val b = blocks->u.array.values[i];
		int64_t idx = -1;
		const char *tok = cp_json_str(b, "BlockToken");
		cp_json_int(b, "BlockIndex", &idx, -1);
		if (idx < 0 || !tok) {
			rc = cp_error_set(CP_EIO, CP_ERRCLASS_PROVIDER,
					  "EBS ListSnapshotBlocks of %s returned a block without "
					  "index or token",
					  snapshot_id);
			break;
		}
		pg->index[pg->count] = (uint64_t)idx;
		if (!(pg->token[pg->count++] = strdup(tok)))
			rc = cp_error_oom();
	}
	const char *nt = cp_json_str(doc, "NextToken");
	if (!rc && nt && *nt && !(*next = strdup(nt)))
		rc = cp_error_oom();
	yajl_tree_free(doc);
	if (rc)
		page_dispose(pg);
	return rc;
}

static void page_set_span(block_page *pg, uint64_t first, const char *next, uint64_t nblocks)
{
	pg->first = first;
	pg->end = next && pg->count ? pg->index[pg->count - 1] + 1 : nblocks;
}

/* Keep pg in the cache (ownership passes); evicts the least recently used. */
static void cache_put(ebs_reader *r, block_page *pg)
{
	pthread_mutex_lock(&r->mu);
	size_t victim = 0;
	for (size_t i = 1; i < CACHED_PAGES; i++)
		if (r->pages[i].used < r->pages[victim].used)
			victim = i;
	page_dispose(&r->pages[victim]);
	r->pages[victim] = *pg;
	r->pages[victim].used = ++r->tick;
	pthread_mutex_unlock(&r->mu);
}

/* 1 and a copy of the token when the block has data, 0 for a hole, -1 when no page covers it. */
static int cache_lookup(ebs_reader *r, uint64_t block, char **token)
{
	int found = -1;
	*token = NULL;
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < CACHED_PAGES && found < 0; i++) {
		block_page *pg = &r->pages[i];
		if (!pg->index || block < pg->first || block >= pg->end)
			continue;
		pg->used = ++r->tick;
		found = 0;
		size_t lo = 0, hi = pg->count;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (pg->index[mid] < block)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < pg->count && pg->index[lo] == block) {
			*token = strdup(pg->token[lo]);
			found = *token ? 1 : -2;
		}
	}
	pthread_mutex_unlock(&r->mu);
	return found;
}

/* Forget the page covering block: its tokens were refused (they expire after a while). */
static void cache_drop(ebs_reader *r, uint64_t block)
{
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < CACHED_PAGES; i++)
		if (r->pages[i].index && block >= r->pages[i].first && block < r->pages[i].end)
			page_dispose(&r->pages[i]);
	pthread_mutex_unlock(&r->mu);
}

static int block_token(ebs_reader *r, uint64_t block, char **token)
{
	int found = cache_lookup(r, block, token);
	if (found == -2)
		return cp_error_oom();
	if (found >= 0)
		return 0;
	pthread_mutex_lock(&r->listing);
	/* Another read may have listed this page while we waited. */
	found = cache_lookup(r, block, token);
	int rc = 0;
	if (found == -1) {
		block_page pg;
		char *next;
		rc = list_page(r->p, r->snapshot_id, block, NULL, &pg, &next, NULL);
		if (!rc) {
			page_set_span(&pg, block, next, r->nblocks);
			free(next);
			cache_put(r, &pg);
			found = cache_lookup(r, block, token);
		}
	}
	pthread_mutex_unlock(&r->listing);
	if (rc)
		return rc;
	return found == -2 ? cp_error_oom() : 0;
}

/* The block's EBS_BLOCK_SIZE bytes into out, their checksum verified. */
static int get_block(ebs_reader *r, uint64_t block, const char *token, char *out)
{
	char path[1024];
	snprintf(path, sizeof(path), "/snapshots/%s/blocks/%llu?blockToken=", r->snapshot_id,
		 (unsigned long long)block);
	cp_buf url = CP_BUF_INIT;
	int rc = cp_buf_put(&url, path, strlen(path));
	rc = rc ? rc : cp_url_encode(&url, token, strlen(token), "");
	/* A corrupted transfer is worth one more try before calling the data bad. */
	for (int attempt = 0; !rc && attempt < 2; attempt++) {
		ebs_req q;
		rc = ebs_req_init(&q, r->p, "GET", url.ptr, "EBS GetSnapshotBlock");
		/* Room for the whole block up front: no regrowing while it arrives. */
		rc = rc ? rc : cp_buf_grow(&q.body, EBS_BLOCK_SIZE + 1);
		rc = rc ? rc : ebs_block_request(r->p, &r->limiter, &q, r->snapshot_id);
		if (!rc) {
			const char *sum = cp_http_headers_get(&q.resp.headers, "x-amz-Checksum");
			const char *alg =
				cp_http_headers_get(&q.resp.headers, "x-amz-Checksum-Algorithm");
			char want[64];
			rc = ebs_checksum(want, q.body.ptr ? q.body.ptr : "", q.body.size);
			if (!rc && (q.body.size != EBS_BLOCK_SIZE || !q.body.ptr || !sum || !alg ||
				    strcmp(alg, "SHA256") || strcmp(sum, want))) {
				rc = cp_error_set(
					CP_ECORRUPT, CP_ERRCLASS_PROVIDER,
					"EBS GetSnapshotBlock %llu of %s: %zu bytes whose "
					"SHA-256 does not match x-amz-Checksum (%s %s)",
					(unsigned long long)block, r->snapshot_id, q.body.size,
					alg ? alg : "no algorithm", sum ? sum : "none");
			}
			if (!rc)
				memcpy(out, q.body.ptr, EBS_BLOCK_SIZE);
		}
		ebs_req_dispose(&q);
		if (rc != CP_ECORRUPT || attempt == 1)
			break;
		rc = 0;
	}
	cp_buf_dispose(&url);
	return rc;
}

static int reader_read(cp_block_reader *self, uint64_t offset, void *buf, size_t len)
{
	ebs_reader *r = (ebs_reader *)self;
	if (offset > self->size || len > self->size - offset)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "read of %zu bytes at %llu is past the end of snapshot %s", len,
				    (unsigned long long)offset, r->snapshot_id);
	char *partial = NULL; /* for a read of part of a block */
	int rc = 0;
	char *out = buf;
	while (!rc && len) {
		uint64_t block = offset / EBS_BLOCK_SIZE;
		size_t skip = (size_t)(offset % EBS_BLOCK_SIZE);
		size_t n = EBS_BLOCK_SIZE - skip < len ? EBS_BLOCK_SIZE - skip : len;
		char *token;
		char *dst = out;
		if (n != EBS_BLOCK_SIZE && !partial && !(partial = malloc(EBS_BLOCK_SIZE)))
			return cp_error_oom();
		if (n != EBS_BLOCK_SIZE)
			dst = partial;
		rc = block_token(r, block, &token);
		if (!rc && token) {
			rc = get_block(r, block, token, dst);
			if (rc == CP_EINVALID) {
				/* An expired token: list that page again and retry once. */
				free(token);
				cache_drop(r, block);
				rc = block_token(r, block, &token);
				rc = rc || !token ? rc : get_block(r, block, token, dst);
			}
		}
		if (!rc && !token)
			memset(out, 0, n);
		if (!rc && token && partial && dst == partial)
			memcpy(out, partial + skip, n);
		free(token);
		out += n;
		offset += n;
		len -= n;
	}
	free(partial);
	return rc;
}

/* Turn a page of block indexes into merged byte ranges and hand them on. */
static int emit_ranges(const uint64_t *index, size_t n, cp_block_range_cb cb, void *payload)
{
	if (!n)
		return 0;
	cp_block_range *ranges = calloc(n, sizeof(*ranges));
	if (!ranges)
		return cp_error_oom();
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t off = index[i] * EBS_BLOCK_SIZE;
		if (k && ranges[k - 1].offset + ranges[k - 1].length == off)
			ranges[k - 1].length += EBS_BLOCK_SIZE;
		else
			ranges[k++] = (cp_block_range){off, EBS_BLOCK_SIZE};
	}
	int rc = cb(ranges, k, payload);
	free(ranges);
	return rc;
}

static int reader_allocated(cp_block_reader *self, cp_block_range_cb cb, void *payload)
{
	ebs_reader *r = (ebs_reader *)self;
	char *token = NULL;
	uint64_t first = 0;
	int rc;
	do {
		block_page pg;
		char *next;
		rc = list_page(r->p, r->snapshot_id, 0, token, &pg, &next, NULL);
		free(token);
		token = next;
		if (rc)
			break;
		rc = emit_ranges(pg.index, pg.count, cb, payload);
		/* The reads that follow want these tokens: keep the page. */
		page_set_span(&pg, first, next, r->nblocks);
		first = pg.end;
		cache_put(r, &pg);
	} while (!rc && token);
	free(token);
	return rc;
}

static void reader_free(cp_block_reader *self)
{
	ebs_reader *r = (ebs_reader *)self;
	if (!r)
		return;
	for (size_t i = 0; i < CACHED_PAGES; i++)
		page_dispose(&r->pages[i]);
	if (r->limiter.throttled)
		cp_log(r->p->ctx, CP_LOG_INFO,
		       "aws: reading %s met throttling %u time(s); lowest concurrency %u",
		       r->snapshot_id, r->limiter.throttled, r->limiter.lowest);
	ebs_limiter_dispose(&r->limiter);
	pthread_mutex_destroy(&r->listing);
	pthread_mutex_destroy(&r->mu);
	free(r->snapshot_id);
	free(r);
}

int ebs_snapshot_open(void *state, const char *snapshot_id, cp_block_reader **out)
{
	aws_provider *p = state;
	ebs_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return cp_error_oom();
	r->p = p;
	pthread_mutex_init(&r->mu, NULL);
	pthread_mutex_init(&r->listing, NULL);
	ebs_limiter_init(&r->limiter, p->ctx, p->max_block_requests);
	r->snapshot_id = strdup(snapshot_id);
	if (!r->snapshot_id) {
		reader_free(&r->base);
		return cp_error_oom();
	}
	/* The first page tells the volume size, and the first reads want it anyway. */
	block_page pg;
	char *next;
	uint64_t gib = 0;
	int rc = list_page(p, snapshot_id, 0, NULL, &pg, &next, &gib);
	if (rc) {
		reader_free(&r->base);
		return rc;
	}
	r->nblocks = gib * (GIB / EBS_BLOCK_SIZE);
	page_set_span(&pg, 0, next, r->nblocks);
	free(next);
	cache_put(r, &pg);
	r->base.version = CP_BLOCK_READER_VERSION;
	r->base.size = gib * GIB;
	r->base.block_size = EBS_BLOCK_SIZE;
	r->base.read = reader_read;
	r->base.allocated = reader_allocated;
	r->base.free = reader_free;
	r->base.reads_in_flight = p->max_block_requests;
	*out = &r->base;
	return 0;
}

int ebs_changed_blocks(void *state, const char *base_snapshot_id, const char *snapshot_id,
		       cp_block_range_cb cb, void *payload)
{
	aws_provider *p = state;
	if (!base_snapshot_id || !*base_snapshot_id)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "changed blocks of %s need a base snapshot", snapshot_id);
	char *token = NULL;
	int rc;
	do {
		char path[4096];
		cp_buf enc = CP_BUF_INIT;
		if (token && cp_url_encode(&enc, token, strlen(token), "")) {
			rc = cp_error_oom();
			break;
		}
		snprintf(path, sizeof(path),
			 "/snapshots/%s/changedblocks?firstSnapshotId=%s&maxResults=%u%s%s",
			 snapshot_id, base_snapshot_id, p->ebs_page_size,
			 token ? "&pageToken=" : "", token ? enc.ptr : "");
		cp_buf_dispose(&enc);
		free(token);
		token = NULL;
		ebs_req r;
		rc = ebs_req_init(&r, p, "GET", path, "EBS ListChangedBlocks");
		if (!rc) {
			r.http.idempotency = CP_HTTP_IDEMPOTENT;
			rc = ebs_req_perform(p, &r, snapshot_id);
		}
		yajl_val doc = NULL;
		rc = rc ? rc
			: cp_json_parse(&doc, r.body.ptr ? r.body.ptr : "",
					"EBS ListChangedBlocks");
		ebs_req_dispose(&r);
		if (rc)
			break;
		yajl_val blocks = cp_json_get(doc, "ChangedBlocks");
		size_t n = YAJL_IS_ARRAY(blocks) ? blocks->u.array.len : 0;
		uint64_t *index = calloc(n ? n : 1, sizeof(uint64_t));
		if (!index)
			rc = cp_error_oom();
		for (size_t i = 0; !rc && i < n; i++) {
			int64_t idx = -1;
			cp_json_int(blocks->u.array.values[i], "BlockIndex", &idx, -1);
			index[i] = idx < 0 ? 0 : (uint64_t)idx;
		}
		rc = rc ? rc : emit_ranges(index, n, cb, payload);
		free(index);
		const char *nt = cp_json_str(doc, "NextToken");
		if (!rc && nt && *nt && !(token = strdup(nt)))
			rc = cp_error_oom();
		yajl_tree_free(doc);
	} while (!rc && token);
	free(token);
	return rc;
}
