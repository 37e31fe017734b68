/* cloudprotect: global options, then one command. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const cli_command commands[] = {
	{"version", "print the version", cmd_version},
	{"providers", "list the providers this build has", cmd_providers},
	{"local", "manage the embedded local cloud (instances, disks, writes)", cmd_local},
	{"inventory", "list the workloads a provider sees", cmd_inventory},
	{"snapshot", "create, list, copy and delete cloud-native snapshots", cmd_snapshot},
	{"repo", "create a repository or show its settings", cmd_repo},
	{"backup", "back up a file, a block device or a provider snapshot", cmd_backup},
	{"snapshots", "list the backups in a repository", cmd_snapshots},
	{"restore", "restore a backup to a file, a block device or a new disk", cmd_restore},
	{"rehydrate", "thaw a backup's packs from an archive storage class", cmd_rehydrate},
	{"check", "verify the repository (and with --read-data, every byte)", cmd_check},
	{"forget", "remove backups by id or by keep rules", cmd_forget},
	{"prune", "remove data no backup references", cmd_prune},
	{"copy", "copy backups to another repository", cmd_copy},
	{"unlock", "remove stale locks", cmd_unlock},
	{"policy", "validate, plan, run or schedule a protection policy", cmd_policy},
	{"history", "list the runs policies recorded", cmd_history},
	{"worker", "run a job on a temporary machine; list, terminate and reap workers",
	 cmd_worker},
	{"cost", "estimate what a policy costs a month", cmd_cost},
	{"network", "export a region's network configuration or re-create it", cmd_network},
	{"tag", "add or overwrite tags on a resource or snapshot", cmd_tag},
	{"untag", "remove tags from a resource or snapshot", cmd_untag},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: cloudprotect [OPTIONS] COMMAND [ARGS]\n"
		   "\n"
		   "Protect cloud workloads: snapshots, portable encrypted backups, restore "
		   "anywhere.\n"
		   "\n"
		   "Options:\n"
		   "  --json                    machine-readable output on stdout\n"
		   "  -v, --verbose             more detail (repeat for debug)\n"
		   "  -q, --quiet               only results and errors\n"
		   "  --progress, --no-progress force progress bars on stderr on or off\n"
		   "  --provider NAME           provider to use (env CLOUDPROTECT_PROVIDER; "
		   "default local)\n"
		   "  --provider-config JSON    provider settings, or @FILE (env "
		   "CLOUDPROTECT_PROVIDER_CONFIG)\n"
		   "  --local-root DIR          root of the local cloud (env "
		   "CLOUDPROTECT_LOCAL_ROOT)\n"
		   "  -r, --repo URL            repository (env CLOUDPROTECT_REPOSITORY)\n"
		   "  --password-file FILE      repository password file (env "
		   "CLOUDPROTECT_PASSWORD_FILE;\n"
		   "                            or the password itself in CLOUDPROTECT_PASSWORD)\n"
		   "  --proxy URL               HTTP(S) proxy for every cloud request (default: "
		   "the\n"
		   "                            environment's https_proxy/http_proxy; \"\" for "
		   "none)\n"
		   "  --no-proxy LIST           hosts reached directly (default: env no_proxy)\n"
		   "  --ca-file FILE            trust the CAs in FILE (PEM) instead of the system "
		   "store\n"
		   "  --ca-path DIR             trust the CAs in DIR (hashed, as `openssl rehash` "
		   "makes)\n"
		   "  --insecure-tls            do not verify TLS certificates (local emulators "
		   "only)\n"
		   "\n"
		   "Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nCtrl-C (SIGINT) or SIGTERM during backup, restore, copy, check, prune or "
		   "rehydrate\ncancels it cleanly (exit status 130, or 143 for SIGTERM); a second "
		   "one exits at once.\nExit statuses: 0 ok, 1 error, 2 usage, 10 no repository, "
		   "11 locked, 12 wrong\npassword, 13 corrupt, 130/143 cancelled by a signal.\n");
	fprintf(f, "\nRun 'cloudprotect COMMAND --help' for a command's options.\n");
}

enum {
	OPT_JSON = 1000,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_PROVIDER,
	OPT_PROVIDER_CONFIG,
	OPT_LOCAL_ROOT,
	OPT_PASSWORD_FILE,
	OPT_PROXY,
	OPT_NO_PROXY,
	OPT_CA_FILE,
	OPT_CA_PATH,
	OPT_INSECURE_TLS,
};

static const struct option global_options[] = {
	{"json", no_argument, NULL, OPT_JSON},
	{"verbose", no_argument, NULL, 'v'},
	{"quiet", no_argument, NULL, 'q'},
	{"progress", no_argument, NULL, OPT_PROGRESS},
	{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
	{"provider", required_argument, NULL, OPT_PROVIDER},
	{"provider-config", required_argument, NULL, OPT_PROVIDER_CONFIG},
	{"local-root", required_argument, NULL, OPT_LOCAL_ROOT},
	{"repo", required_argument, NULL, 'r'},
	{"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
	{"proxy", required_argument, NULL, OPT_PROXY},
	{"no-proxy", required_argument, NULL, OPT_NO_PROXY},
	{"ca-file", required_argument, NULL, OPT_CA_FILE},
	{"ca-path", required_argument, NULL, OPT_CA_PATH},
	{"insecure-tls", no_argument, NULL, OPT_INSECURE_TLS},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static void log_to_stderr(cp_log_level level, const char *message, void *payload)
{
	static const char *const names[] = {"error", "warning", "info", "debug", "trace"};
	cli *c = payload;
	if (c->progress == 1 || (c->progress == -1 && isatty(2)))
		fputs("\r\033[K", stderr);
	fprintf(stderr, "cloudprotect: %s: %s\n", names[level], message);
}

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

int main(int argc, char **argv)
{
	cli c;
	memset(&c, 0, sizeof(c));
	c.progress = -1;
	c.provider_name = env_or("CLOUDPROTECT_PROVIDER", "local");
	c.provider_config = env_or("CLOUDPROTECT_PROVIDER_CONFIG", NULL);
	c.local_root = env_or("CLOUDPROTECT_LOCAL_ROOT", NULL);
	c.repo_url = env_or("CLOUDPROTECT_REPOSITORY", NULL);
	c.password_file = env_or("CLOUDPROTECT_PASSWORD_FILE", NULL);

	/* How every HTTP client reaches the clouds; the library reads the environment for NULLs. */
	cp_ctx_options opts = CP_CTX_OPTIONS_INIT;
	int opt;
	/* '+': stop at the command name; the command parses the rest. */
	while ((opt = getopt_long(argc, argv, "+vqr:h", global_options, NULL)) != -1) {
		switch (opt) {
		case OPT_JSON: c.json = 1; break;
		case 'v': c.verbose++; break;
		case 'q': c.quiet = 1; break;
		case OPT_PROGRESS: c.progress = 1; break;
		case OPT_NO_PROGRESS: c.progress = 0; break;
		case OPT_PROVIDER: c.provider_name = optarg; break;
		case OPT_PROVIDER_CONFIG: c.provider_config = optarg; break;
		case OPT_LOCAL_ROOT: c.local_root = optarg; break;
		case 'r': c.repo_url = optarg; break;
		case OPT_PASSWORD_FILE: c.password_file = optarg; break;
		case OPT_PROXY: opts.proxy = optarg; break;
		case OPT_NO_PROXY: opts.no_proxy = optarg; break;
		case OPT_CA_FILE: opts.ca_file = optarg; break;
		case OPT_CA_PATH: opts.ca_path = optarg; break;
		case OPT_INSECURE_TLS: opts.insecure_tls = 1; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	int cmd_index = optind;
	const char *name = argv[cmd_index];
	const cli_command *cmd = NULL;
	for (size_t i = 0; i < NCOMMANDS && !cmd; i++)
		if (!strcmp(commands[i].name, name))
			cmd = &commands[i];
	if (!cmd) {
		if (!strcmp(name, "help")) {
			usage(stdout);
			return EXIT_OK;
		}
		fprintf(stderr,
			"cloudprotect: error: unknown command '%s'; run 'cloudprotect --help' for "
			"the "
			"list\n",
			name);
		return EXIT_USAGE;
	}
	if (c.quiet)
		c.progress = 0;
	/* A typo here would otherwise surface as a TLS failure far from its cause. */
	if (opts.ca_file && access(opts.ca_file, R_OK)) {
		fprintf(stderr, "cloudprotect: error: cannot read --ca-file %s: %s\n", opts.ca_file,
			strerror(errno));
		return EXIT_USAGE;
	}
	if (opts.ca_path && access(opts.ca_path, R_OK | X_OK)) {
		fprintf(stderr, "cloudprotect: error: cannot read --ca-path %s: %s\n", opts.ca_path,
			strerror(errno));
		return EXIT_USAGE;
	}
	if (opts.insecure_tls)
		fprintf(stderr, "cloudprotect: warning: --insecure-tls: TLS certificates are not "
				"verified, so anyone on the network path can read and change this "
				"traffic; use it only with local emulators\n");

	opts.log_cb = log_to_stderr;
	opts.log_payload = &c;
	opts.log_level = c.quiet ? CP_LOG_ERROR : (cp_log_level)(CP_LOG_WARN + c.verbose);
	if (opts.log_level > CP_LOG_TRACE)
		opts.log_level = CP_LOG_TRACE;
	int rc = cp_ctx_new(&c.ctx, &opts);
	if (rc)
		return cli_fail(&c, rc, "cannot start the library");
	if (c.json)
		c.out = yajl_gen_alloc(NULL);

	/* Commands parse with getopt again, from their own name as argv[0]. */
	optind = 0; /* 0 makes GNU getopt start over */
	int status = cmd->run(&c, argc - cmd_index, argv + cmd_index);
	cli_json_flush(&c);
	if (c.out)
		yajl_gen_free(c.out);
	cp_provider_free(c.provider);
	if (c.password) {
		explicit_bzero(c.password, strlen(c.password));
		free(c.password);
	}
	cp_ctx_free(c.ctx);
	return status;
}
