/*
 * Holding back deletions prune would otherwise make. Two reasons:
 *
 * - A lock in force (immutability): deleting would fail, and trying is
 *   noise in the store's audit logs; the retain-until date comes from the
 *   listing when the store gives it, else from a HEAD.
 * - A minimum storage duration (S3 GLACIER 90 days, Azure Cool 30, GCS
 *   ARCHIVE 365, ...; the store knows its table): the cloud bills the days
 *   left anyway, so deleting early saves nothing and loses the data. The
 *   age comes from the listing's last-modified time.
 *
 * The charge estimate uses the built-in price tables (the cloud's first
 * region: the store does not say where it is); without them only bytes x
 * days is known.
 */
#include "job/prune_hold.h"
#include "cost/cost_internal.h"

#include "ctx.h"
#include "error.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define DAY 86400

void cp_prune_hold_init(cp_prune_hold *h, cp_repository *repo, const cp_prune_options *opts,
			cp_prune_stats *stats)
{
	memset(h, 0, sizeof(*h));
	h->repo = repo;
	h->opts = opts;
	h->stats = stats;
	h->now = opts->now ? opts->now : (int64_t)time(NULL);
	stats->early_delete_cost = 0;
}

void cp_prune_hold_dispose(cp_prune_hold *h)
{
	cp_prices_free(h->prices);
	h->prices = NULL;
}

static const char *cloud_of(const char *scheme)
{
	if (!strcmp(scheme, "s3"))
		return "aws";
	if (!strcmp(scheme, "azblob"))
		return "azure";
	if (!strcmp(scheme, "gs"))
		return "gcp";
	return NULL;
}

/* Price per GB-month of a class, or -1 when unknown. */
static double gb_month(cp_prune_hold *h, const char *storage_class)
{
	const char *cloud = cloud_of(cp_objstore_scheme(h->repo->store));
	if (!cloud)
		return -1;
	if (!h->prices_tried) {
		h->prices_tried = 1;
		if (cp_prices_load_default(&h->prices)) {
			cp_log(h->repo->ctx, CP_LOG_DEBUG,
			       "prune: no price tables (%s); early-deletion charges are given in "
			       "byte-days only",
			       cp_error_last() ? cp_error_last()->message : "");
			cp_error_clear();
			h->prices = NULL;
		}
	}
	const cp_region_price *r = NULL;
	const cp_archive_price *ap = NULL;
	if (!h->prices || cp_prices_find(h->prices, cloud, NULL, &r)) {
		cp_error_clear();
		return -1;
	}
	if (!cp_prices_archive(r, storage_class, &ap))
		return ap->gb_month;
	cp_error_clear();
	return r->storage_gb_month;
}

static void add_charge(cp_prune_hold *h, const cp_object_info *o, double days_left)
{
	cp_prune_stats *st = h->stats;
	double gb = (double)o->size / 1e9, price = gb_month(h, o->storage_class);
	st->byte_days += (double)o->size * days_left;
	if (price < 0 || st->early_delete_cost < 0)
		st->early_delete_cost = -1;
	else
		st->early_delete_cost += gb * price * days_left / 30.0;
}

static void span(int64_t *first, int64_t *last, int64_t t)
{
	if (!*first || t < *first)
		*first = t;
	if (t > *last)
		*last = t;
}

int cp_prune_hold_locked(cp_prune_hold *h, const char *key, int64_t *until)
{
	cp_object_info info;
	*until = 0;
	if (!h->repo->config.immutable_days)
		return 0;
	memset(&info, 0, sizeof(info));
	if (cp_objstore_head(h->repo->store, key, &info)) {
		/* Gone or unreadable: the delete that follows says which. */
		cp_error_clear();
		return 0;
	}
	*until = info.retain_until;
	return info.retain_until > h->now;
}

int cp_prune_hold_pack(cp_prune_hold *h, const char *key, const cp_object_info *listed)
{
	cp_prune_stats *st = h->stats;
	int64_t until = listed ? listed->retain_until : 0;
	if (until <= h->now && !cp_prune_hold_locked(h, key, &until))
		until = 0;
	if (until > h->now) {
		st->packs_kept_locked++;
		st->bytes_kept_locked += listed ? listed->size : 0;
		span(&st->locked_first, &st->locked_until, until);
		return 1;
	}
	if (!listed || !listed->mtime)
		return 0;
	unsigned int min_days = cp_objstore_min_storage_days(h->repo->store, listed->storage_class);
	int64_t due = listed->mtime + (int64_t)min_days * DAY;
	if (!min_days || due <= h->now)
		return 0;
	add_charge(h, listed, (double)(due - h->now) / DAY);
	if (h->opts->early_delete) {
		st->packs_deleted_early++;
		st->bytes_deleted_early += listed->size;
		return 0;
	}
	st->packs_kept_young++;
	st->bytes_kept_young += listed->size;
	span(&st->young_first, &st->young_until, due);
	return 1;
}

static void day_of(int64_t t, char out[16])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

void cp_prune_hold_report(cp_prune_hold *h)
{
	const cp_prune_stats *st = h->stats;
	char first[16], last[16], cost[64];
	if (st->early_delete_cost >= 0)
		snprintf(cost, sizeof(cost), "~$%.2f", st->early_delete_cost);
	else
		snprintf(cost, sizeof(cost), "%.1f GB-days", st->byte_days / 1e9);
	if (st->packs_kept_young) {
		day_of(st->young_first, first);
		day_of(st->young_until, last);
		cp_log(h->repo->ctx, CP_LOG_INFO,
		       "%llu packs (%.1f MiB) kept until %s (the first from %s) to avoid "
		       "early-deletion charges of %s; prune --early-delete deletes them anyway",
		       (unsigned long long)st->packs_kept_young,
		       (double)st->bytes_kept_young / (1 << 20), last, first, cost);
	}
	if (st->packs_deleted_early)
		cp_log(h->repo->ctx, CP_LOG_INFO,
		       "%llu packs (%.1f MiB) deleted before their minimum storage duration: "
		       "early-deletion charges of %s",
		       (unsigned long long)st->packs_deleted_early,
		       (double)st->bytes_deleted_early / (1 << 20), cost);
	if (st->packs_kept_locked && st->locked_until) {
		day_of(st->locked_first, first);
		day_of(st->locked_until, last);
		cp_log(h->repo->ctx, CP_LOG_INFO,
		       "%llu packs (%.1f MiB) locked until %s (the first until %s); prune again "
		       "after then",
		       (unsigned long long)st->packs_kept_locked,
		       (double)st->bytes_kept_locked / (1 << 20), last, first);
	}
}
