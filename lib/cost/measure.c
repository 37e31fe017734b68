/* Measuring the stored ratio and the change rate from a repository's backups. */
#include "cost_internal.h"

#include <string.h>

int cp_cost_measure_backups(const cp_backup_list *list, cp_cost_assumptions *a)
{
	double first_stored = 0, first_data = 0;
	double later_new = 0, later_data_days = 0;
	for (size_t i = 0; i < list->count; i++) {
		const cp_backup_info *b = &list->items[i];
		const cp_backup_info *prev = NULL;
		if (!b->source || !b->data_bytes)
			continue;
		/* Items come oldest first: the previous backup of this source, if any. */
		for (size_t j = i; j-- > 0 && !prev;)
			if (list->items[j].source && !strcmp(list->items[j].source, b->source))
				prev = &list->items[j];
		if (!prev) {
			first_stored += (double)b->new_bytes;
			first_data += (double)b->data_bytes;
			continue;
		}
		double days = (double)(b->time - prev->time) / 86400.0;
		if (days < 1)
			days = 1; /* backups less than a day apart: their change counts as a day's */
		later_new += (double)b->new_bytes;
		later_data_days += (double)b->data_bytes * days;
	}
	if (first_data <= 0)
		return 0;
	a->stored_ratio = first_stored / first_data;
	if (a->stored_ratio <= 0)
		a->stored_ratio = 0.01; /* all zeros or all duplicates: keep the model finite */
	if (later_data_days > 0) {
		/* new stored bytes = ratio * changed bytes, so changed/day = new / ratio / data-days */
		double rate = later_new / a->stored_ratio / later_data_days;
		a->daily_change_rate = rate > 1 ? 1 : rate;
	}
	a->measured = 1;
	return 0;
}

typedef struct throughput_sum {
	double bytes, seconds;
} throughput_sum;

static int add_backup_run(const cp_run_record *r, void *payload)
{
	throughput_sum *t = payload;
	int64_t seconds = r->end - r->start;
	if (r->action == CP_ACTION_BACKUP && r->result == CP_RUN_OK && r->bytes &&
	    seconds >= CP_COST_MIN_MEASURED_SECONDS) {
		t->bytes += (double)r->bytes;
		t->seconds += (double)seconds;
	}
	return 0;
}

int cp_cost_measure_runs(cp_state *state, const char *policy, cp_cost_assumptions *a)
{
	throughput_sum t = {0, 0};
	int rc = cp_state_runs(state, policy, add_backup_run, &t);
	if (rc)
		return rc;
	if (t.seconds <= 0)
		return 0;
	a->throughput_mib_s = t.bytes / t.seconds / (1024.0 * 1024.0);
	a->throughput_measured = 1;
	return 0;
}
