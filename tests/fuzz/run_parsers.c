/*
 * Runs every fuzz target without libFuzzer, so the parsers are exercised
 * in every CI run: first over seeds (valid objects from the encoders),
 * then over random mutations of them (bit flips, byte changes, cuts,
 * insertions, splices) for CP_FUZZ_SECONDS seconds in all (default 3).
 * Crashes and sanitizer reports fail the test.
 *
 *   fuzz_parsers [--write-corpus DIR]   writes the seeds as libFuzzer corpora
 */
#include "targets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_SEEDS 16
#define MAX_INPUT 65536

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t mutate(uint8_t *buf, size_t len, size_t cap, const cp_buf *seeds, size_t nseeds)
{
	int rounds = 1 + (int)(next_rand() % 4);
	for (int r = 0; r < rounds; r++) {
		size_t at = len ? next_rand() % len : 0;
		switch (next_rand() % 7) {
		case 0: /* flip a bit */
			if (len)
				buf[at] ^= (uint8_t)(1u << (next_rand() % 8));
			break;
		case 1: /* set an interesting byte */
			if (len) {
				static const uint8_t v[] = {0,	 1,   0x7f, 0x80, 0xff, '"',
							    '{', '}', '0',  '9',  '-',	'e'};
				buf[at] = v[next_rand() % sizeof(v)];
			}
			break;
		case 2: /* cut the tail */ len = at; break;
		case 3: /* cut a middle piece */
			if (len) {
				size_t n = next_rand() % (len - at + 1);
				memmove(buf + at, buf + at + n, len - at - n);
				len -= n;
			}
			break;
		case 4: /* insert random bytes */
		{
			size_t n = 1 + next_rand() % 8;
			if (len + n <= cap) {
				memmove(buf + at + n, buf + at, len - at);
				for (size_t i = 0; i < n; i++)
					buf[at + i] = (uint8_t)next_rand();
				len += n;
			}
			break;
		}
		case 5: /* a large little-endian number somewhere */
			if (len >= 4) {
				at = next_rand() % (len - 3);
				uint32_t x = (uint32_t)next_rand() | 0x80000000u;
				memcpy(buf + at, &x, 4);
			}
			break;
		default: /* splice in part of another seed */
		{
			const cp_buf *o = &seeds[next_rand() % nseeds];
			if (o->size) {
				size_t from = next_rand() % o->size;
				size_t n = next_rand() % (o->size - from + 1);
				if (at + n <= cap) {
					memcpy(buf + at, o->ptr + from, n);
					if (at + n > len)
						len = at + n;
				}
			}
		}
		}
	}
	return len;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void write_corpus(const char *dir, const fuzz_target *t, const cp_buf *seeds, size_t n)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, t->name);
	mkdir(dir, 0755);
	mkdir(path, 0755);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s/seed-%zu", dir, t->name, i);
		FILE *f = fopen(path, "wb");
		if (f) {
			fwrite(seeds[i].ptr, 1, seeds[i].size, f);
			fclose(f);
		}
	}
}

int main(int argc, char **argv)
{
	const char *env = getenv("CP_FUZZ_SECONDS");
	double budget = 3.0;
	if (env) {
		char *end = NULL;
		budget = strtod(env, &end);
		if (end == env || *end || !(budget >= 0)) {
			fprintf(stderr, "CP_FUZZ_SECONDS must be a number of seconds, not '%s'\n",
				env);
			return 2;
		}
	}
	const char *corpus = argc == 3 && !strcmp(argv[1], "--write-corpus") ? argv[2] : NULL;
	static uint8_t buf[MAX_INPUT];
	for (size_t t = 0; t < fuzz_ntargets; t++) {
		const fuzz_target *ft = &fuzz_targets[t];
		cp_buf seeds[MAX_SEEDS];
		size_t n = 0;
		ft->seeds(seeds, &n, MAX_SEEDS);
		if (!n) {
			fprintf(stderr, "%s: no seeds\n", ft->name);
			return 1;
		}
		if (corpus) {
			write_corpus(corpus, ft, seeds, n);
			for (size_t i = 0; i < n; i++)
				cp_buf_dispose(&seeds[i]);
			continue;
		}
		for (size_t i = 0; i < n; i++)
			ft->run((const uint8_t *)seeds[i].ptr, seeds[i].size);
		double end = now_s() + budget / (double)fuzz_ntargets;
		unsigned long runs = 0;
		while (now_s() < end) {
			for (int k = 0; k < 64; k++, runs++) {
				const cp_buf *s = &seeds[next_rand() % n];
				size_t len = s->size < MAX_INPUT ? s->size : MAX_INPUT;
				memcpy(buf, s->ptr, len);
				len = mutate(buf, len, MAX_INPUT, seeds, n);
				/* Keep the mode byte meaningful most of the time. */
				ft->run(buf, len);
			}
		}
		printf("%-12s %zu seeds, %lu mutated inputs\n", ft->name, n, runs);
		for (size_t i = 0; i < n; i++)
			cp_buf_dispose(&seeds[i]);
	}
	return 0;
}
