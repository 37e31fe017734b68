/* Price tables: JSON files per cloud, merged so that later files override regions. */
#include "cost_internal.h"
#include "error.h"
#include "fs.h"
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct reader {
	const char *origin;
	int rc;
} reader;

static int fail(reader *rd, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(reader *rd, const char *path, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return rd->rc = cp_error_set(CP_EINVALID, CP_ERRCLASS_CONFIG, "%s: %s: %s", rd->origin,
				     path, msg);
}

static double number(reader *rd, yajl_val obj, const char *prefix, const char *key, int required)
{
	yajl_val v = cp_json_get(obj, key);
	char path[512]; /* prefix paths are at most 300 bytes */
	snprintf(path, sizeof(path), "%s.%s", prefix, key);
	if (!v) {
		if (required && !rd->rc)
			fail(rd, path, "is required (a price, a number >= 0)");
		return 0;
	}
	if (!YAJL_IS_NUMBER(v) || YAJL_GET_DOUBLE(v) < 0) {
		if (!rd->rc)
			fail(rd, path, "must be a number >= 0");
		return 0;
	}
	return YAJL_GET_DOUBLE(v);
}

static char *text(reader *rd, yajl_val obj, const char *prefix, const char *key, int required)
{
	const char *s = cp_json_str(obj, key);
	if (!s) {
		if (required && !rd->rc) {
			char path[256];
			snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key);
			fail(rd, path, "is required (a string)");
		}
		return NULL;
	}
	char *copy = strdup(s);
	if (!copy && !rd->rc)
		rd->rc = cp_error_oom();
	return copy;
}

static void region_dispose(cp_region_price *r)
{
	free(r->cloud);
	free(r->region);
	free(r->currency);
	free(r->taken);
	free(r->source);
	free(r->archive_default);
	for (size_t i = 0; i < r->narchive; i++)
		free(r->archive[i].name);
	free(r->archive);
	memset(r, 0, sizeof(*r));
}

static void read_region(reader *rd, yajl_val doc, const char *name, yajl_val v, cp_region_price *r)
{
	char path[200];
	snprintf(path, sizeof(path), "regions.%s", name);
	if (!YAJL_IS_OBJECT(v)) {
		fail(rd, path, "must be an object of prices");
		return;
	}
	r->cloud = text(rd, doc, "", "cloud", 1);
	r->currency = text(rd, doc, "", "currency", 1);
	r->taken = text(rd, doc, "", "taken", 1);
	r->source = text(rd, doc, "", "source", 1);
	r->region = strdup(name);
	r->snapshot_gb_month = number(rd, v, path, "snapshot_gb_month", 1);
	r->storage_gb_month = number(rd, v, path, "storage_gb_month", 1);
	r->put_per_1000 = number(rd, v, path, "put_per_1000", 1);
	r->get_per_1000 = number(rd, v, path, "get_per_1000", 1);
	r->block_read_per_1000 = number(rd, v, path, "block_read_per_1000", 0);
	r->worker_hour = number(rd, v, path, "worker_hour", 1);
	r->transfer_region_gb = number(rd, v, path, "transfer_region_gb", 1);
	r->transfer_internet_gb = number(rd, v, path, "transfer_internet_gb", 1);
	r->archive_default = text(rd, v, path, "archive_default", 0);
	yajl_val arch = cp_json_get(v, "archive");
	if (rd->rc || !arch)
		return;
	if (!YAJL_IS_OBJECT(arch)) {
		fail(rd, path, "archive must be an object of storage classes");
		return;
	}
	r->archive = calloc(arch->u.object.len + 1, sizeof(*r->archive));
	if (!r->archive) {
		rd->rc = cp_error_oom();
		return;
	}
	for (size_t i = 0; i < arch->u.object.len && !rd->rc; i++) {
		char apath[300];
		snprintf(apath, sizeof(apath), "%s.archive.%s", path, arch->u.object.keys[i]);
		yajl_val c = arch->u.object.values[i];
		cp_archive_price *a = &r->archive[r->narchive++];
		a->name = strdup(arch->u.object.keys[i]);
		a->gb_month = number(rd, c, apath, "gb_month", 1);
		a->min_days = (unsigned int)number(rd, c, apath, "min_days", 0);
		a->retrieval_gb = number(rd, c, apath, "retrieval_gb", 0);
		a->put_per_1000 = number(rd, c, apath, "put_per_1000", 0);
	}
	if (!rd->rc && r->archive_default) {
		const cp_archive_price *found;
		if (cp_prices_archive(r, r->archive_default, &found))
			rd->rc = CP_EINVALID;
	}
}

int cp_prices_new(cp_prices **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : cp_error_oom();
}

void cp_prices_free(cp_prices *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->count; i++)
		region_dispose(&p->regions[i]);
	free(p->regions);
	free(p);
}

static int add_region(cp_prices *p, cp_region_price *r)
{
	for (size_t i = 0; i < p->count; i++)
		if (!strcmp(p->regions[i].cloud, r->cloud) &&
		    !strcmp(p->regions[i].region, r->region)) {
			region_dispose(&p->regions[i]);
			p->regions[i] = *r;
			return 0;
		}
	cp_region_price *grown = realloc(p->regions, (p->count + 1) * sizeof(*grown));
	if (!grown)
		return cp_error_oom();
	p->regions = grown;
	p->regions[p->count++] = *r;
	return 0;
}

int cp_prices_add_json(cp_prices *p, const char *json, const char *origin)
{
	reader rd = {origin ? origin : "prices", 0};
	yajl_val doc = NULL;
	int rc = cp_json_parse(&doc, json, rd.origin);
	if (rc)
		return rc;
	yajl_val regions = cp_json_get(doc, "regions");
	if (!YAJL_IS_OBJECT(doc) || !regions || !YAJL_IS_OBJECT(regions) ||
	    !regions->u.object.len) {
		yajl_tree_free(doc);
		return fail(&rd, "regions",
			    "is required: an object of region name -> prices (see doc/cost.md)");
	}
	for (size_t i = 0; i < regions->u.object.len && !rd.rc; i++) {
		cp_region_price r;
		memset(&r, 0, sizeof(r));
		read_region(&rd, doc, regions->u.object.keys[i], regions->u.object.values[i], &r);
		if (!rd.rc && (!r.region || !r.cloud))
			rd.rc = cp_error_oom();
		if (rd.rc || (rd.rc = add_region(p, &r)))
			region_dispose(&r);
	}
	yajl_tree_free(doc);
	return rd.rc;
}

int cp_prices_add_file(cp_prices *p, const char *path)
{
	cp_buf text = CP_BUF_INIT;
	int rc = cp_fs_read_file(path, &text);
	if (rc) {
		cp_buf_dispose(&text);
		return cp_error_prefix(rc, "cannot read price file %s: ", path);
	}
	rc = cp_prices_add_json(p, text.ptr ? text.ptr : "", path);
	cp_buf_dispose(&text);
	return rc;
}

int cp_prices_load_default(cp_prices **out)
{
	static const char *const clouds[] = {"aws", "azure", "gcp"};
	int rc = cp_prices_new(out);
	for (size_t i = 0; i < sizeof(clouds) / sizeof(clouds[0]) && !rc; i++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/prices/%s.json", cp_data_dir(), clouds[i]);
		rc = cp_prices_add_file(*out, path);
		if (rc == CP_ENOTFOUND)
			cp_error_prefix(rc, "the built-in price tables are missing (set "
					    "CLOUDPROTECT_DATA_DIR to the directory holding "
					    "prices/, or pass a price file): ");
	}
	if (rc) {
		cp_prices_free(*out);
		*out = NULL;
	}
	return rc;
}

int cp_prices_find(const cp_prices *p, const char *cloud, const char *region,
		   const cp_region_price **out)
{
	for (size_t i = 0; i < p->count; i++)
		if (!strcmp(p->regions[i].cloud, cloud) &&
		    (!region || !strcmp(p->regions[i].region, region))) {
			*out = &p->regions[i];
			return 0;
		}
	char known[512] = "";
	size_t pos = 0;
	for (size_t i = 0; i < p->count && pos < sizeof(known); i++) {
		int n = snprintf(known + pos, sizeof(known) - pos, "%s%s/%s", i ? ", " : "",
				 p->regions[i].cloud, p->regions[i].region);
		pos += n > 0 ? (size_t)n : 0;
	}
	return cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_CONFIG,
			    "no price table for %s%s%s; known: %s; add one with a price file",
			    cloud, region ? "/" : "", region ? region : "",
			    p->count ? known : "(none)");
}

int cp_prices_archive(const cp_region_price *r, const char *name, const cp_archive_price **out)
{
	if (!name)
		name = r->archive_default;
	for (size_t i = 0; i < r->narchive; i++)
		if (!name || !strcmp(r->archive[i].name, name)) {
			*out = &r->archive[i];
			return 0;
		}
	char known[256] = "";
	size_t pos = 0;
	for (size_t i = 0; i < r->narchive && pos < sizeof(known); i++) {
		int n = snprintf(known + pos, sizeof(known) - pos, "%s%s", i ? ", " : "",
				 r->archive[i].name);
		pos += n > 0 ? (size_t)n : 0;
	}
	return cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_CONFIG,
			    "%s/%s has no archive storage class %s; known: %s", r->cloud, r->region,
			    name ? name : "(any)", r->narchive ? known : "(none)");
}
