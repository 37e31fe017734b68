/* Shared state and helpers of the cloudprotect command-line tool. */
#ifndef CLOUDPROTECT_CLI_H
#define CLOUDPROTECT_CLI_H

#include <cloudprotect.h>
#include <stdio.h>
#include <yajl/yajl_gen.h>

/* Exit statuses, documented in cloudprotect(1). */
enum {
	EXIT_OK = 0,
	EXIT_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_NO_REPOSITORY = 10,
	EXIT_LOCKED = 11,
	EXIT_WRONG_PASSWORD = 12,
	EXIT_CORRUPT = 13,
};

typedef struct cli {
	int json;
	int verbose;
	int quiet;
	int progress; /* 1 on, 0 off, -1 when stderr is a terminal */
	const char *provider_name;
	const char *provider_config;
	const char *local_root;
	const char *repo_url;
	const char *password_file;
	cp_ctx *ctx;
	cp_provider *provider;
	yajl_gen out; /* JSON output when --json */
	char *password;
	const char *cancel_note; /* what is true after a cancel by signal (cli_cancel_on_signal) */
} cli;

typedef struct cli_command {
	const char *name;
	const char *summary;
	int (*run)(cli *c, int argc, char **argv);
} cli_command;

/*
 * Report the library's last error (or msg when none) on stderr; returns the
 * exit status it maps to. A job cancelled by a signal prints c->cancel_note
 * instead and returns 128 + the signal (130 for SIGINT).
 */
int cli_fail(cli *c, int rc, const char *what);

/*
 * From now on SIGINT and SIGTERM cancel the running job through its progress
 * callback (cli_progress_cb returns non-zero), so it stops cleanly; a second
 * signal exits at once. note says what is true after such a cancel.
 */
void cli_cancel_on_signal(cli *c, const char *note);
/* The signal that asked to cancel, or 0. */
int cli_interrupted(void);
/* Report a usage error naming the command; returns EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

int cli_open_provider(cli *c);
int cli_open_repository(cli *c, cp_repository **repo, int create);
/* The repository password: CLOUDPROTECT_PASSWORD, --password-file or CLOUDPROTECT_PASSWORD_FILE. */
int cli_password(cli *c, const char *file, const char **out);

/* "512K", "2G", "1048576" -> bytes. Returns -1 on bad input. */
int cli_parse_size(const char *text, uint64_t *out);
/* "key=value" -> tag pointing into text (modified). Returns -1 on bad input. */
int cli_parse_tag(char *text, cp_tag *out);

/* Progress: a bar on stderr when enabled. */
int cli_progress_cb(const cp_progress *p, void *payload);
void cli_progress_done(cli *c);
int cli_progress_enabled(const cli *c);

/* Human-readable sizes into a caller buffer. */
const char *cli_human(uint64_t bytes, char *buf, size_t len);
/* Time as "2026-11-26 10:57:49" local time. */
const char *cli_time(int64_t t, char *buf, size_t len);

/* JSON output helpers (no-ops when not --json). */
void cli_json_begin(cli *c, int array);
void cli_json_end(cli *c, int array);
void cli_json_key(cli *c, const char *key);
void cli_json_str(cli *c, const char *key, const char *value);
void cli_json_int(cli *c, const char *key, long long value);
void cli_json_uint(cli *c, const char *key, uint64_t value);
void cli_json_double(cli *c, const char *key, double value);
void cli_json_bool(cli *c, const char *key, int value);
void cli_json_tags(cli *c, const cp_tag *tags, size_t ntags);
/* Write the JSON document to stdout and reset. */
void cli_json_flush(cli *c);

/* Wants --help: prints usage to stdout when argv has -h/--help; returns 1 if so. */
int cli_wants_help(int argc, char **argv, const char *usage);

int cmd_version(cli *c, int argc, char **argv);
int cmd_providers(cli *c, int argc, char **argv);
int cmd_local(cli *c, int argc, char **argv);
int cmd_inventory(cli *c, int argc, char **argv);
int cmd_snapshot(cli *c, int argc, char **argv);
int cmd_repo(cli *c, int argc, char **argv);
int cmd_backup(cli *c, int argc, char **argv);
int cmd_snapshots(cli *c, int argc, char **argv);
int cmd_restore(cli *c, int argc, char **argv);
int cmd_rehydrate(cli *c, int argc, char **argv);
int cmd_check(cli *c, int argc, char **argv);
int cmd_forget(cli *c, int argc, char **argv);
int cmd_prune(cli *c, int argc, char **argv);
int cmd_copy(cli *c, int argc, char **argv);
int cmd_unlock(cli *c, int argc, char **argv);
int cmd_policy(cli *c, int argc, char **argv);
int cmd_cost(cli *c, int argc, char **argv);
int cmd_history(cli *c, int argc, char **argv);
int cmd_worker(cli *c, int argc, char **argv);
int cmd_network(cli *c, int argc, char **argv);
int cmd_tag(cli *c, int argc, char **argv);
int cmd_untag(cli *c, int argc, char **argv);

/* The policy state directory: given, CLOUDPROTECT_STATE_DIR, beside the local root, or XDG (malloc'd). */
char *cli_state_dir(cli *c, const char *given);

/* Run prune after forget (shared by forget --prune and prune). */
int cli_run_prune(cli *c, cp_repository *repo, const cp_prune_options *opts);

#endif
