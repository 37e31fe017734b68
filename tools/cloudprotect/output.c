/* Output: JSON documents for --json, and progress bars on stderr. */
#include "cli.h"

#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void cli_json_begin(cli *c, int array)
{
	if (!c->out)
		return;
	if (array)
		yajl_gen_array_open(c->out);
	else
		yajl_gen_map_open(c->out);
}

void cli_json_end(cli *c, int array)
{
	if (!c->out)
		return;
	if (array)
		yajl_gen_array_close(c->out);
	else
		yajl_gen_map_close(c->out);
}

void cli_json_key(cli *c, const char *key)
{
	if (c->out)
		yajl_gen_string(c->out, (const unsigned char *)key, strlen(key));
}

void cli_json_str(cli *c, const char *key, const char *value)
{
	if (!c->out)
		return;
	if (key)
		cli_json_key(c, key);
	if (value)
		yajl_gen_string(c->out, (const unsigned char *)value, strlen(value));
	else
		yajl_gen_null(c->out);
}

void cli_json_int(cli *c, const char *key, long long value)
{
	if (!c->out)
		return;
	if (key)
		cli_json_key(c, key);
	yajl_gen_integer(c->out, value);
}

void cli_json_uint(cli *c, const char *key, uint64_t value)
{
	if (!c->out)
		return;
	char num[24];
	int n = snprintf(num, sizeof(num), "%llu", (unsigned long long)value);
	if (key)
		cli_json_key(c, key);
	yajl_gen_number(c->out, num, (size_t)n);
}

void cli_json_double(cli *c, const char *key, double value)
{
	if (!c->out)
		return;
	if (key)
		cli_json_key(c, key);
	yajl_gen_double(c->out, value);
}

void cli_json_bool(cli *c, const char *key, int value)
{
	if (!c->out)
		return;
	if (key)
		cli_json_key(c, key);
	yajl_gen_bool(c->out, value);
}

void cli_json_tags(cli *c, const cp_tag *tags, size_t ntags)
{
	if (!c->out)
		return;
	cli_json_key(c, "tags");
	cli_json_begin(c, 0);
	for (size_t i = 0; i < ntags; i++)
		cli_json_str(c, tags[i].key, tags[i].value);
	cli_json_end(c, 0);
}

void cli_json_flush(cli *c)
{
	if (!c->out)
		return;
	const unsigned char *text = NULL;
	size_t len = 0;
	if (yajl_gen_get_buf(c->out, &text, &len) == yajl_gen_status_ok && len) {
		fwrite(text, 1, len, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	}
	yajl_gen_clear(c->out);
	yajl_gen_reset(c->out, NULL);
}

/* The engine reports from several threads; draw at most ten times a second. */
static pthread_mutex_t bar_lock = PTHREAD_MUTEX_INITIALIZER;
static struct timespec bar_start, bar_last;
static int bar_drawn;
static char bar_phase[32];

static double since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

int cli_progress_enabled(const cli *c)
{
	return c->progress == 1 || (c->progress == -1 && !c->json && isatty(2));
}

int cli_progress_cb(const cp_progress *p, void *payload)
{
	cli *c = payload;
	/* The library stops the job cleanly when this returns non-zero. */
	if (cli_interrupted())
		return 1;
	if (!cli_progress_enabled(c))
		return 0;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&bar_lock);
	const char *phase = p->phase ? p->phase : "";
	int new_phase = strncmp(bar_phase, phase, sizeof(bar_phase) - 1) != 0;
	if (new_phase) {
		if (bar_drawn)
			fputc('\n', stderr);
		snprintf(bar_phase, sizeof(bar_phase), "%s", phase);
		bar_start = now;
	}
	int finished = p->total && p->done >= p->total;
	if (!new_phase && !finished && bar_drawn && since(&bar_last, &now) < 0.1) {
		pthread_mutex_unlock(&bar_lock);
		return 0;
	}
	bar_last = now;
	bar_drawn = 1;
	char done[32], total[32], rate[32], stored[32];
	double secs = since(&bar_start, &now);
	cli_human(secs > 0.05 ? (uint64_t)((double)p->done / secs) : 0, rate, sizeof(rate));
	if (p->total) {
		int width = 30;
		int fill = (int)((double)width * (double)p->done / (double)p->total);
		if (fill > width)
			fill = width;
		char bar[64];
		memset(bar, '=', (size_t)fill);
		memset(bar + fill, ' ', (size_t)(width - fill));
		bar[width] = '\0';
		fprintf(stderr, "\r\033[K%-8s [%s] %3d%% %s / %s  %s/s", phase, bar,
			(int)(100.0 * (double)p->done / (double)p->total),
			cli_human(p->done, done, sizeof(done)),
			cli_human(p->total, total, sizeof(total)), rate);
	} else {
		fprintf(stderr, "\r\033[K%-8s %s  %s/s", phase,
			cli_human(p->done, done, sizeof(done)), rate);
	}
	if (p->stored)
		fprintf(stderr, "  stored %s", cli_human(p->stored, stored, sizeof(stored)));
	fflush(stderr);
	pthread_mutex_unlock(&bar_lock);
	return 0;
}

void cli_progress_done(cli *c)
{
	(void)c;
	pthread_mutex_lock(&bar_lock);
	if (bar_drawn)
		fputc('\n', stderr);
	bar_drawn = 0;
	bar_phase[0] = '\0';
	pthread_mutex_unlock(&bar_lock);
}
