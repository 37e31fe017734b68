/* cloudprotect repo init|info, unlock: repository set-up and maintenance. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: cloudprotect repo init [--chunk-size SIZE] [--pack-size SIZE] [--compression N]\n"
	"                              [--storage-class CLASS] [--immutable-days N] [--kdf-n N]\n"
	"       cloudprotect repo info\n"
	"\n"
	"The repository comes from --repo URL or CLOUDPROTECT_REPOSITORY; its password from\n"
	"CLOUDPROTECT_PASSWORD or --password-file. Lose the password and the data is gone:\n"
	"keep it somewhere safe.\n";

static void print_info(cli *c, const cp_repository_info *info)
{
	char chunk[32], pack[32], when[32];
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_str(c, "id", info->id);
		cli_json_str(c, "url", c->repo_url);
		cli_json_int(c, "format_version", info->format_version);
		cli_json_uint(c, "chunk_size", info->chunk_size);
		cli_json_uint(c, "pack_size", info->pack_size);
		cli_json_int(c, "compression_level", info->compression_level);
		cli_json_int(c, "immutable_days", info->immutable_days);
		cli_json_str(c, "storage_class", info->storage_class);
		cli_json_int(c, "created", info->created);
		cli_json_end(c, 0);
		return;
	}
	printf("repository %s at %s\n", info->id, c->repo_url);
	printf("  format version   %u\n", info->format_version);
	printf("  chunk size       %s\n", cli_human(info->chunk_size, chunk, sizeof(chunk)));
	printf("  pack size        %s\n", cli_human(info->pack_size, pack, sizeof(pack)));
	printf("  compression      zstd level %d\n", info->compression_level);
	printf("  storage class    %s\n", info->storage_class[0] ? info->storage_class : "default");
	printf("  immutable days   %u\n", info->immutable_days);
	printf("  created          %s\n", cli_time(info->created, when, sizeof(when)));
}

static int init(cli *c, int argc, char **argv)
{
	static const struct option options[] = {
		{"chunk-size", required_argument, NULL, 'c'},
		{"pack-size", required_argument, NULL, 'p'},
		{"compression", required_argument, NULL, 'z'},
		{"kdf-n", required_argument, NULL, 'n'},
		{"storage-class", required_argument, NULL, 's'},
		{"immutable-days", required_argument, NULL, 'i'},
		{NULL, 0, NULL, 0},
	};
	cp_repository_create_options o = CP_REPOSITORY_CREATE_OPTIONS_INIT;
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		uint64_t v = 0;
		if (opt == 's') {
			o.storage_class = optarg;
			continue;
		}
		if (opt == '?' || cli_parse_size(optarg, &v))
			return cli_usage_error("repo init", "bad option or value");
		switch (opt) {
		case 'c': o.chunk_size = (uint32_t)v; break;
		case 'p': o.pack_size = (uint32_t)v; break;
		case 'z': o.compression_level = (int)v; break;
		case 'n': o.kdf_n = v; break;
		case 'i': o.immutable_days = (unsigned int)v; break;
		}
	}
	if (optind != argc)
		return cli_usage_error("repo init", "unexpected argument '%s'", argv[optind]);
	if (!c->repo_url)
		return cli_usage_error("repo init", "no repository given; use --repo URL or set "
						    "CLOUDPROTECT_REPOSITORY");
	const char *pw = NULL;
	int status = cli_password(c, NULL, &pw);
	if (status)
		return status;
	cp_repository *repo = NULL;
	int rc = cp_repository_create(&repo, c->ctx, c->repo_url, pw, &o);
	if (rc)
		return cli_fail(c, rc, "cannot create the repository");
	cp_repository_info info;
	rc = cp_repository_info_get(repo, &info);
	if (!rc) {
		if (!c->json && !c->quiet)
			printf("created repository %s at %s\n", info.id, c->repo_url);
		else if (c->json)
			print_info(c, &info);
	}
	cp_repository_close(repo);
	return rc ? cli_fail(c, rc, "cannot read the new repository") : EXIT_OK;
}

int cmd_repo(cli *c, int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (cli_wants_help(argc, argv, usage_text))
		return EXIT_OK;
	if (!strcmp(argv[1], "init"))
		return init(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "info"))
		return cli_usage_error("repo", "unknown subcommand '%s'", argv[1]);
	if (argc != 2)
		return cli_usage_error("repo info", "unexpected argument '%s'", argv[2]);
	cp_repository *repo = NULL;
	int status = cli_open_repository(c, &repo, 0);
	if (status)
		return status;
	cp_repository_info info;
	int rc = cp_repository_info_get(repo, &info);
	if (!rc)
		print_info(c, &info);
	cp_repository_close(repo);
	return rc ? cli_fail(c, rc, "cannot read the repository") : EXIT_OK;
}

int cmd_unlock(cli *c, int argc, char **argv)
{
	static const char usage[] =
		"usage: cloudprotect unlock [--all]\n\n"
		"Remove stale locks: expired ones, and those of processes on this host that are\n"
		"gone. --all removes every lock: only when you are sure nothing runs.\n";
	if (cli_wants_help(argc, argv, usage))
		return EXIT_OK;
	int all = argc == 2 && !strcmp(argv[1], "--all");
	if (argc > 2 || (argc == 2 && !all))
		return cli_usage_error("unlock", "the only option is --all");
	cp_repository *repo = NULL;
	int status = cli_open_repository(c, &repo, 0);
	if (status)
		return status;
	unsigned removed = 0;
	int rc = cp_repository_unlock(repo, all, &removed);
	cp_repository_close(repo);
	if (rc)
		return cli_fail(c, rc, "cannot unlock");
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_int(c, "removed", removed);
		cli_json_end(c, 0);
	} else if (!c->quiet) {
		printf("removed %u lock%s\n", removed, removed == 1 ? "" : "s");
	}
	return EXIT_OK;
}
