/*
 * A tiny driver to time full backups and restores of an image file:
 *   perf_backup create REPO_DIR
 *   perf_backup backup REPO_DIR IMAGE
 *   perf_backup restore REPO_DIR latest OUT
 * Not a test: run it under `time` / `/usr/bin/time -v` (bench/ will grow the real thing).
 * CP_THREADS=N overrides the number of worker threads.
 */
#include "cloudprotect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int fail(const char *what)
{
	const cp_error *e = cp_error_last();
	fprintf(stderr, "%s: %s\n", what, e ? e->message : "?");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return fprintf(stderr, "usage: perf_backup create|backup|restore REPO ...\n"), 2;
	char url[1024];
	snprintf(url, sizeof(url), "file://%s", argv[2]);
	cp_ctx *ctx = NULL;
	cp_ctx_options co = CP_CTX_OPTIONS_INIT;
	const char *threads = getenv("CP_THREADS");
	if (threads) {
		char *end = NULL;
		unsigned long n = strtoul(threads, &end, 10);
		if (end == threads || *end || n > 1024)
			return fprintf(stderr, "CP_THREADS must be a number from 0 to 1024\n"), 2;
		co.threads = (unsigned int)n;
	}
	if (cp_ctx_new(&ctx, &co))
		return fail("context");
	cp_repository *repo = NULL;
	if (!strcmp(argv[1], "create")) {
		if (cp_repository_create(&repo, ctx, url, "perf", NULL))
			return fail("create");
	} else if (cp_repository_open(&repo, ctx, url, "perf")) {
		return fail("open");
	}
	if (!strcmp(argv[1], "backup") && argc == 4) {
		cp_block_reader *r = NULL;
		if (cp_block_reader_open_file(&r, argv[3]))
			return fail("source");
		cp_backup_options o = CP_BACKUP_OPTIONS_INIT;
		o.source = argv[3];
		cp_backup_stats st;
		char *id = NULL;
		if (cp_backup_create(&id, &st, repo, r, &o))
			return fail("backup");
		printf("backup %s: %.1f MB in %.2f s = %.0f MB/s; read %.1f MB, stored %.1f MB\n",
		       id, st.size / 1e6, st.seconds, st.size / 1e6 / st.seconds,
		       st.read_bytes / 1e6, st.new_stored_bytes / 1e6);
		cp_free(id);
		cp_block_reader_free(r);
	} else if (!strcmp(argv[1], "restore") && argc == 5) {
		char *id = NULL;
		cp_backup_list l;
		if (cp_backup_resolve(&id, repo, argv[3], NULL) || cp_backup_list_get(&l, repo))
			return fail("resolve");
		uint64_t size = 0;
		for (size_t i = 0; i < l.count; i++)
			if (!strcmp(l.items[i].id, id))
				size = l.items[i].size;
		cp_backup_list_dispose(&l);
		cp_block_writer *w = NULL;
		if (cp_block_writer_open_file(&w, argv[4], size))
			return fail("target");
		struct timespec a, b, c;
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (cp_restore(repo, id, w, NULL))
			return fail("restore");
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (cp_block_writer_commit(w, NULL))
			return fail("commit");
		clock_gettime(CLOCK_MONOTONIC, &c);
		double rs = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
		double cs = (double)(c.tv_sec - b.tv_sec) + (c.tv_nsec - b.tv_nsec) / 1e9;
		printf("restore %s: %.1f MB in %.2f s = %.0f MB/s, then %.2f s to commit (flush)\n",
		       id, size / 1e6, rs, size / 1e6 / rs, cs);
		cp_block_writer_free(w);
		cp_free(id);
	}
	cp_repository_close(repo);
	cp_ctx_free(ctx);
	return 0;
}
