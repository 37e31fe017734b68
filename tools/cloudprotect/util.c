/* Helpers every command uses: errors, provider and repository opening, parsing. */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int exit_status_for(int rc)
{
	switch (rc) {
	case CP_ELOCKED: return EXIT_LOCKED;
	case CP_EPASSWORD: return EXIT_WRONG_PASSWORD;
	case CP_ECORRUPT: return EXIT_CORRUPT;
	default: return EXIT_ERROR;
	}
}

static volatile sig_atomic_t interrupted;

static void write_stderr(const char *s)
{
	/* Only async-signal-safe calls here. */
	ssize_t n = write(2, s, strlen(s));
	(void)n;
}

static void on_signal(int sig)
{
	if (interrupted) {
		write_stderr("\ncloudprotect: interrupted again: exiting now (the repository stays "
			     "valid; its lock expires, or `cloudprotect unlock` removes it)\n");
		_exit(128 + sig);
	}
	interrupted = sig;
	write_stderr("\ncloudprotect: cancelling; interrupt again to exit at once\n");
}

void cli_cancel_on_signal(cli *c, const char *note)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	static const int sigs[] = {SIGINT, SIGTERM};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;
		/* A signal ignored when we started (nohup, a background job) stays ignored. */
		if (!sigaction(sigs[i], NULL, &old) && old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
	c->cancel_note = note;
}

int cli_interrupted(void)
{
	return interrupted;
}

int cli_fail(cli *c, int rc, const char *what)
{
	const cp_error *e = cp_error_last();
	const char *msg = e ? e->message : cp_error_code_name(rc);
	int sig = cli_interrupted();
	cli_progress_done(c);
	if (rc == CP_ECANCELLED && sig) {
		fprintf(stderr, "cloudprotect: %s: %s\n",
			sig == SIGINT ? "interrupted" : "terminated",
			c && c->cancel_note ? c->cancel_note
					    : "cancelled; the repository is unchanged");
		what = "cancelled by a signal";
	} else {
		fprintf(stderr, "cloudprotect: error: %s: %s\n", what, msg);
	}
	if (e && (e->cloud_code || e->request_id) && !(rc == CP_ECANCELLED && sig))
		fprintf(stderr,
			"cloudprotect: error: cloud error code %s, HTTP %d, request id %s\n",
			e->cloud_code ? e->cloud_code : "-", e->http_status,
			e->request_id ? e->request_id : "-");
	if (c && c->out) {
		yajl_gen_reset(c->out, NULL);
		yajl_gen_clear(c->out);
		cli_json_begin(c, 0);
		cli_json_key(c, "error");
		cli_json_begin(c, 0);
		cli_json_str(c, "code", cp_error_code_name(rc));
		cli_json_str(c, "message", msg);
		cli_json_str(c, "during", what);
		cli_json_end(c, 0);
		cli_json_end(c, 0);
		cli_json_flush(c);
	}
	if (rc == CP_ECANCELLED && sig)
		return 128 + sig;
	return exit_status_for(rc);
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "cloudprotect %s: ", command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun 'cloudprotect %s --help' for usage.\n", command);
	return EXIT_USAGE;
}

int cli_wants_help(int argc, char **argv, const char *usage)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return 1;
		}
	}
	return 0;
}

static char *read_text_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *s = malloc(cap);
	size_t got;
	while (s && (got = fread(s + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (n + 1 == cap) {
			char *t = realloc(s, cap *= 2);
			if (!t) {
				free(s);
				s = NULL;
			}
			s = t;
		}
	}
	fclose(f);
	if (s)
		s[n] = '\0';
	return s;
}

static char *default_local_root(void)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	char *path = NULL;
	if (xdg && *xdg) {
		if (asprintf(&path, "%s/cloudprotect/local", xdg) < 0)
			path = NULL;
	} else if (asprintf(&path, "%s/.local/share/cloudprotect/local", home ? home : ".") < 0) {
		path = NULL;
	}
	return path;
}

/* {"root": "..."} with the path escaped properly. */
static char *local_config(const char *root)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *text;
	size_t len;
	yajl_gen_map_open(g);
	yajl_gen_string(g, (const unsigned char *)"root", 4);
	yajl_gen_string(g, (const unsigned char *)root, strlen(root));
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &text, &len);
	char *s = strndup((const char *)text, len);
	yajl_gen_free(g);
	return s;
}

int cli_open_provider(cli *c)
{
	if (c->provider)
		return 0;
	char *owned = NULL;
	const char *config = c->provider_config;
	if (config && config[0] == '@') {
		owned = read_text_file(config + 1);
		if (!owned) {
			fprintf(stderr,
				"cloudprotect: error: cannot read provider config file '%s': %s\n",
				config + 1, strerror(errno));
			return EXIT_USAGE;
		}
		config = owned;
	} else if (!config && !strcmp(c->provider_name, "local")) {
		char *root = c->local_root ? strdup(c->local_root) : default_local_root();
		if (root && root[0] != '/') {
			char *abs = realpath(".", NULL);
			char *joined = NULL;
			if (abs && asprintf(&joined, "%s/%s", abs, root) < 0)
				joined = NULL;
			free(abs);
			free(root);
			root = joined;
		}
		owned = root ? local_config(root) : NULL;
		free(root);
		config = owned;
	}
	int rc = cp_provider_open(&c->provider, c->ctx, c->provider_name, config);
	free(owned);
	if (rc)
		return cli_fail(c, rc, "cannot open the provider");
	return 0;
}

int cli_password(cli *c, const char *file, const char **out)
{
	if (!file && c->password) {
		*out = c->password;
		return 0;
	}
	const char *env = getenv("CLOUDPROTECT_PASSWORD");
	if (!file)
		file = c->password_file;
	char *pw = NULL;
	if (file) {
		pw = read_text_file(file);
		if (!pw) {
			fprintf(stderr, "cloudprotect: error: cannot read password file '%s': %s\n",
				file, strerror(errno));
			return EXIT_USAGE;
		}
		pw[strcspn(pw, "\r\n")] = '\0';
	} else if (env) {
		pw = strdup(env);
	} else {
		fprintf(stderr, "cloudprotect: error: no repository password; set "
				"CLOUDPROTECT_PASSWORD or use --password-file FILE\n");
		return EXIT_USAGE;
	}
	if (!pw || !*pw) {
		free(pw);
		fprintf(stderr, "cloudprotect: error: the repository password is empty\n");
		return EXIT_USAGE;
	}
	if (file != c->password_file) {
		*out = pw; /* a second repository's password: caller frees */
		return 0;
	}
	c->password = pw;
	*out = pw;
	return 0;
}

int cli_open_repository(cli *c, cp_repository **repo, int create)
{
	*repo = NULL;
	if (!c->repo_url) {
		fprintf(stderr, "cloudprotect: error: no repository given; use --repo URL or set "
				"CLOUDPROTECT_REPOSITORY (e.g. file:///srv/backups)\n");
		return EXIT_USAGE;
	}
	const char *pw = NULL;
	int status = cli_password(c, NULL, &pw);
	if (status)
		return status;
	(void)create;
	int rc = cp_repository_open(repo, c->ctx, c->repo_url, pw);
	if (rc) {
		status = cli_fail(c, rc, "cannot open the repository");
		return rc == CP_ENOTFOUND ? EXIT_NO_REPOSITORY : status;
	}
	return 0;
}

int cli_parse_size(const char *text, uint64_t *out)
{
	if (!text || !*text)
		return -1;
	errno = 0;
	char *end = NULL;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || end == text || text[0] == '-')
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case '\0': break;
	case 'k':
	case 'K': shift = 10; break;
	case 'm':
	case 'M': shift = 20; break;
	case 'g':
	case 'G': shift = 30; break;
	case 't':
	case 'T': shift = 40; break;
	default: return -1;
	}
	if (*end && end[1] && strcmp(end + 1, "iB") && strcmp(end + 1, "B") && strcmp(end + 1, "i"))
		return -1;
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int cli_parse_tag(char *text, cp_tag *out)
{
	char *eq = strchr(text, '=');
	if (!eq || eq == text)
		return -1;
	*eq = '\0';
	out->key = text;
	out->value = eq + 1;
	return 0;
}

const char *cli_human(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)bytes;
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.*f %s", v < 10 ? 2 : 1, v, units[u]);
	return buf;
}

const char *cli_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}
