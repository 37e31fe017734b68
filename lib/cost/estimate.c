/*
 * The cost model (doc/cost.md states every formula). Steady state: what a
 * month costs once retention is full. Months have 30 days; a GiB is
 * priced at the tables' per-GB rate.
 */
#include "cost_internal.h"
#include "error.h"
#include "policy/policy_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAYS_PER_MONTH 30.0
#define GIB	       1073741824.0
#define BLOCK_PER_GIB  2048.0 /* 512 KiB snapshot blocks */
#define UNBOUNDED      1e300

/* Small helpers instead of libm, which the library does not link. */
static double min2(double a, double b)
{
	return a < b ? a : b;
}

static double max2(double a, double b)
{
	return a > b ? a : b;
}

/* Round up a non-negative amount (object counts); tiny float noise does not add one. */
static double round_up(double x)
{
	if (x <= 1e-9)
		return 0;
	double whole = (double)(uint64_t)x;
	return x - whole > 1e-9 ? whole + 1 : whole;
}

typedef struct owned {
	char **strings;
	size_t count, cap;
	const char **notes;
	size_t nnotes, capnotes;
} owned;

static const char *keep(owned *o, const char *s)
{
	if (!s)
		return NULL;
	if (o->count == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 32;
		char **grown = realloc(o->strings, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		o->strings = grown;
		o->cap = cap;
	}
	char *copy = strdup(s);
	if (copy)
		o->strings[o->count++] = copy;
	return copy;
}

static int note(owned *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int note(owned *o, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < o->nnotes; i++)
		if (!strcmp(o->notes[i], buf))
			return 0;
	if (o->nnotes == o->capnotes) {
		size_t cap = o->capnotes ? o->capnotes * 2 : 16;
		const char **grown = realloc(o->notes, cap * sizeof(*grown));
		if (!grown)
			return cp_error_oom();
		o->notes = grown;
		o->capnotes = cap;
	}
	const char *kept = keep(o, buf);
	if (!kept)
		return cp_error_oom();
	o->notes[o->nnotes++] = kept;
	return 0;
}

/* Ages (days) of retained restore points. */
typedef struct ages {
	double *v;
	size_t n, cap;
} ages;

static int add_age(ages *a, double age)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		double *grown = realloc(a->v, cap * sizeof(*grown));
		if (!grown)
			return cp_error_oom();
		a->v = grown;
		a->cap = cap;
	}
	a->v[a->n++] = age;
	return 0;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

/*
 * A rule keeping count points, one per period of `period` days; backups
 * come every `interval` days, so points are max(period, interval) apart.
 */
static int add_rule(ages *a, unsigned int count, double period, double interval)
{
	double step = period > interval ? period : interval;
	int rc = 0;
	for (unsigned int i = 0; i < count && !rc; i++)
		rc = add_age(a, i * step);
	return rc;
}

static int retained_ages(ages *a, const cp_gfs *gfs, double interval)
{
	int rc = add_age(a, 0);
	if (!rc)
		rc = add_rule(a, gfs->last, interval, interval);
	if (!rc)
		rc = add_rule(a, gfs->daily, 1, interval);
	if (!rc)
		rc = add_rule(a, gfs->weekly, 7, interval);
	if (!rc)
		rc = add_rule(a, gfs->monthly, 30, interval);
	if (!rc)
		rc = add_rule(a, gfs->yearly, 365, interval);
	if (rc)
		return rc;
	qsort(a->v, a->n, sizeof(double), cmp_double);
	size_t out = 0;
	for (size_t i = 0; i < a->n; i++)
		if (!out || a->v[i] - a->v[out - 1] > 1e-9)
			a->v[out++] = a->v[i];
	a->n = out;
	return 0;
}

/* Unique data of points with ages in [lo, hi): a full copy plus what changed between them. */
static double chain_factor(const ages *a, double lo, double hi, double rate, size_t *points,
			   double *oldest)
{
	double f = 0, prev = -1;
	*points = 0;
	for (size_t i = 0; i < a->n; i++) {
		double age = a->v[i];
		if (age < lo || age >= hi)
			continue;
		f += prev < 0 ? 1.0 : min2(rate * (age - prev), 1.0);
		prev = age;
		*oldest = age;
		(*points)++;
	}
	return f;
}

static const char *cloud_of_url(const char *url)
{
	if (!url)
		return NULL;
	if (!strncmp(url, "s3://", 5))
		return "aws";
	if (!strncmp(url, "azblob://", 9))
		return "azure";
	if (!strncmp(url, "gs://", 5))
		return "gcp";
	return NULL; /* file://: priced where the workload is */
}

static int is_priced_cloud(const char *cloud)
{
	return cloud && (!strcmp(cloud, "aws") || !strcmp(cloud, "azure") || !strcmp(cloud, "gcp"));
}

/* The table for a repository: its cloud, region hint, else the workload's region on that cloud. */
static int repo_table(const cp_prices *prices, const char *url, const char *region_hint,
		      const cp_region_price *near, const cp_region_price **out)
{
	const char *cloud = cloud_of_url(url);
	if (!cloud) {
		*out = near;
		return 0;
	}
	if (region_hint)
		return cp_prices_find(prices, cloud, region_hint, out);
	if (!strcmp(cloud, near->cloud))
		return cp_prices_find(prices, cloud, near->region, out);
	return cp_prices_find(prices, cloud, NULL, out);
}

static double transfer_price(const cp_region_price *from, const cp_region_price *to)
{
	if (strcmp(from->cloud, to->cloud))
		return from->transfer_internet_gb;
	if (strcmp(from->region, to->region))
		return from->transfer_region_gb;
	return 0;
}

static void add_breakdown(cp_cost_breakdown *sum, const cp_cost_breakdown *c)
{
	sum->snapshot_storage += c->snapshot_storage;
	sum->backup_storage += c->backup_storage;
	sum->archive_storage += c->archive_storage;
	sum->archive_min_duration += c->archive_min_duration;
	sum->archive_retrieval += c->archive_retrieval;
	sum->requests += c->requests;
	sum->compute += c->compute;
	sum->transfer += c->transfer;
	sum->total += c->total;
}

typedef struct model {
	const cp_policy *p;
	const cp_cost_options *o;
	const cp_cost_assumptions *a;
	owned *own;
	const char *currency;
} model;

static int check_currency(model *m, const cp_region_price *t)
{
	if (!m->currency)
		m->currency = t->currency;
	if (strcmp(m->currency, t->currency))
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_CONFIG,
				    "price tables mix currencies (%s and %s in %s/%s); use tables "
				    "of one currency",
				    m->currency, t->currency, t->cloud, t->region);
	return note(m->own, "prices %s/%s: %s, taken %s; %s", t->cloud, t->region, t->currency,
		    t->taken, t->source);
}

static int workload_table(model *m, const cp_cost_workload *w, const cp_region_price **out)
{
	if (is_priced_cloud(w->cloud))
		return cp_prices_find(m->o->prices, w->cloud, w->region, out);
	const char *cloud = m->o->default_cloud ? m->o->default_cloud : "aws";
	int rc = cp_prices_find(m->o->prices, cloud, m->o->default_region, out);
	if (!rc)
		rc = note(m->own, "workloads on '%s' are priced as %s/%s",
			  w->cloud ? w->cloud : "an unknown cloud", (*out)->cloud, (*out)->region);
	return rc;
}

static int estimate_one(model *m, const cp_cost_workload *w, cp_cost_line *line)
{
	const cp_policy *p = m->p;
	const cp_cost_options *o = m->o;
	const cp_cost_assumptions *a = m->a;
	const cp_region_price *wt = NULL, *rt = NULL, *at = NULL;
	const cp_archive_price *ap = NULL;
	int rc = workload_table(m, w, &wt);
	if (!rc)
		rc = check_currency(m, wt);
	if (rc)
		return cp_error_prefix(rc, "workload %s: ", w->id ? w->id : "(no id)");

	double used = (w->used ? (double)w->used : (double)w->size * a->used_fraction) / GIB;
	double rate = w->daily_change_rate >= 0 ? w->daily_change_rate : a->daily_change_rate;
	double k = a->stored_ratio;
	int backups = p->has_backups && !o->snapshots_only;
	int archive_days = o->archive_after_days >= 0 ? o->archive_after_days
			   : p->has_archive	      ? (int)p->archive_after_days
						      : 0;
	int archive = backups && archive_days > 0;
	cp_cost_breakdown *c = &line->cost;
	memset(line, 0, sizeof(*line));
	line->workload_id = keep(m->own, w->id);
	line->cloud = wt->cloud;
	line->region = wt->region;
	line->used_gib = used;

	/* Snapshots: a full copy, then what changed between retained snapshots. */
	double snaps_per_day = p->has_snapshots ? cp_schedule_per_day(&p->snapshot_schedule)
						: cp_schedule_per_day(&p->backup_schedule);
	unsigned int keep_last = p->snapshot_keep_last ? p->snapshot_keep_last : 1;
	unsigned int keep_days = p->snapshot_keep_days;
	if (o->snapshot_keep_days >= 0) {
		keep_days = (unsigned int)o->snapshot_keep_days;
		keep_last = 1;
	}
	if (snaps_per_day > 0) {
		double n = max2((double)keep_last, round_up(keep_days * snaps_per_day));
		double inc = min2(rate / snaps_per_day, 1.0);
		line->snapshot_gib = used * (1 + inc * (n - 1));
		c->snapshot_storage = line->snapshot_gib * wt->snapshot_gb_month;
	}

	if (backups) {
		rc = repo_table(o->prices, p->repository, p->repository_region, wt, &rt);
		if (!rc)
			rc = check_currency(m, rt);
		if (!rc && archive) {
			const char *hint = p->archive_region;
			const char *acloud = cloud_of_url(p->archive_repository);
			if (!hint && (!acloud || !strcmp(acloud, rt->cloud)))
				hint = rt->region; /* beside the primary unless told otherwise */
			rc = repo_table(o->prices, p->archive_repository, hint, rt, &at);
			if (!rc)
				rc = check_currency(m, at);
			if (!rc)
				rc = cp_prices_archive(at, p->archive_class, &ap);
		}
		if (rc)
			return cp_error_prefix(rc, "workload %s: ", w->id ? w->id : "(no id)");
		if (!cloud_of_url(p->repository) &&
		    (rc = note(m->own, "a file:// repository is priced as object storage where "
				       "the workload is")))
			return rc;

		double per_day = cp_schedule_per_day(&p->backup_schedule);
		double interval = per_day > 0 ? 1.0 / per_day : 1.0;
		ages ag = {0};
		if ((rc = retained_ages(&ag, &p->gfs, interval))) {
			free(ag.v);
			return rc;
		}
		size_t npri = 0, narc = 0;
		double oldest_pri = 0, oldest_arc = 0;
		double limit = archive ? (double)archive_days : UNBOUNDED;
		line->backup_gib = k * used * chain_factor(&ag, 0, limit, rate, &npri, &oldest_pri);
		if (archive)
			line->archive_gib =
				k * used *
				chain_factor(&ag, limit, UNBOUNDED, rate, &narc, &oldest_arc);
		free(ag.v);
		c->backup_storage = line->backup_gib * rt->storage_gb_month;

		double changed = used * min2(rate * interval, 1.0); /* read per backup */
		double stored = k * changed;			    /* written per backup */
		double per_month = DAYS_PER_MONTH * per_day;
		double puts = per_month * (round_up(stored * 1024 / a->pack_mib) + 2);
		c->requests = puts / 1000 * rt->put_per_1000 +
			      per_month * changed * BLOCK_PER_GIB / 1000 * wt->block_read_per_1000;
		double read_gib = per_month * changed;
		line->worker_hours = read_gib * 1024 / a->throughput_mib_s / 3600;
		c->compute = line->worker_hours * wt->worker_hour;
		c->transfer = per_month * stored * transfer_price(wt, rt);

		if (archive && narc) {
			c->archive_storage = line->archive_gib * ap->gb_month;
			/* Data leaves the archive this long after arriving; less than the minimum is billed as the minimum. */
			double stay = max2(oldest_arc - archive_days, 1.0);
			if (stay < ap->min_days)
				c->archive_min_duration =
					c->archive_storage * (ap->min_days / stay - 1.0);
			double inflow =
				line->archive_gib * DAYS_PER_MONTH / max2(stay, DAYS_PER_MONTH);
			c->requests +=
				round_up(inflow * 1024 / a->pack_mib) / 1000 * ap->put_per_1000;
			c->transfer += inflow * transfer_price(rt, at);
			double full = k * used;
			line->retrieval_per_restore =
				full * ap->retrieval_gb +
				round_up(full * 1024 / a->pack_mib) / 1000 * at->get_per_1000;
			c->archive_retrieval =
				a->archive_restores_per_year / 12.0 * line->retrieval_per_restore;
		}
	}
	c->total = c->snapshot_storage + c->backup_storage + c->archive_storage +
		   c->archive_min_duration + c->archive_retrieval + c->requests + c->compute +
		   c->transfer;
	return 0;
}

static int check_options(const cp_cost_options *o)
{
	if (!o || o->version != CP_COST_OPTIONS_VERSION)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "cp_cost_options missing or of version %u (this library knows "
				    "%u); start from CP_COST_OPTIONS_INIT",
				    o ? o->version : 0, CP_COST_OPTIONS_VERSION);
	if (!o->prices)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "no price tables given; load them with "
				    "cp_prices_load_default() or cp_prices_add_file()");
	const cp_cost_assumptions *a = &o->assumptions;
	if (a->daily_change_rate < 0 || a->daily_change_rate > 1 || a->used_fraction <= 0 ||
	    a->used_fraction > 1 || a->stored_ratio <= 0 || a->stored_ratio > 2 ||
	    a->throughput_mib_s <= 0 || a->pack_mib <= 0 || a->archive_restores_per_year < 0)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "cost assumptions out of range: change rate and used fraction "
				    "0..1, stored ratio 0..2, throughput and pack size > 0, "
				    "restores >= 0");
	return 0;
}

int cp_cost_estimate(cp_cost_report *out, const cp_policy *policy, const cp_cost_workload *w,
		     size_t count, const cp_cost_options *opts)
{
	memset(out, 0, sizeof(*out));
	int rc = check_options(opts);
	if (rc)
		return rc;
	owned *own = calloc(1, sizeof(*own));
	out->lines = calloc(count + 1, sizeof(*out->lines));
	if (!own || !out->lines) {
		free(own);
		free(out->lines);
		out->lines = NULL;
		return cp_error_oom();
	}
	out->priv_ = own;
	out->assumptions = opts->assumptions;
	model m = {policy, opts, &opts->assumptions, own, NULL};
	const cp_cost_assumptions *a = &opts->assumptions;
	rc = note(own,
		  "%s: daily change %.2f%% of used data, used %.0f%% of provisioned size, "
		  "%.2f bytes stored per byte read (dedup + zstd), workers read %.0f MiB/s%s, "
		  "%.0f MiB packs, %.1f full restores from the archive a year; months of 30 days",
		  a->measured ? "measured from the repository, with the rest assumed" : "assumed",
		  a->daily_change_rate * 100, a->used_fraction * 100, a->stored_ratio,
		  a->throughput_mib_s,
		  a->throughput_measured ? " (measured from recorded backup runs)" : "",
		  a->pack_mib, a->archive_restores_per_year);
	for (size_t i = 0; i < count && !rc; i++) {
		rc = estimate_one(&m, &w[i], &out->lines[out->count]);
		if (!rc)
			add_breakdown(&out->total, &out->lines[out->count++].cost);
	}
	out->currency = keep(own, m.currency ? m.currency : "USD");
	out->notes = own->notes;
	out->nnotes = own->nnotes;
	if (rc)
		cp_cost_report_dispose(out);
	return rc;
}

void cp_cost_report_dispose(cp_cost_report *r)
{
	owned *own = r->priv_;
	if (own) {
		for (size_t i = 0; i < own->count; i++)
			free(own->strings[i]);
		free(own->strings);
		free(own->notes);
		free(own);
	}
	free(r->lines);
	memset(r, 0, sizeof(*r));
}
