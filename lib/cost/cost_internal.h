/* Price tables as the cost model reads them. */
#ifndef CP_LIB_COST_INTERNAL_H
#define CP_LIB_COST_INTERNAL_H

#include "cloudprotect/cost.h"

typedef struct cp_archive_price {
	char *name; /* storage class: GLACIER, DEEP_ARCHIVE, Cool, ARCHIVE, ... */
	double gb_month;
	unsigned int min_days;
	double retrieval_gb;
	double put_per_1000;
} cp_archive_price;

typedef struct cp_region_price {
	char *cloud, *region, *currency, *taken, *source;
	double snapshot_gb_month;
	double storage_gb_month;
	double put_per_1000, get_per_1000;
	double block_read_per_1000;
	double worker_hour;
	double transfer_region_gb, transfer_internet_gb;
	char *archive_default;
	cp_archive_price *archive;
	size_t narchive;
} cp_region_price;

struct cp_prices {
	cp_region_price *regions;
	size_t count;
};

/** The table of cloud+region; region NULL: the cloud's first. CP_ENOTFOUND lists what exists. */
int cp_prices_find(const cp_prices *prices, const char *cloud, const char *region,
		   const cp_region_price **out);
/** An archive class of a region; name NULL: its default. */
int cp_prices_archive(const cp_region_price *r, const char *name, const cp_archive_price **out);

#endif
