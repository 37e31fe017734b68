/* cloudprotect local ...: the embedded local cloud's own operations. */
#include "cli.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TAGS 64

static const char usage_text[] =
	"usage: cloudprotect local init\n"
	"       cloudprotect local create-instance --name NAME [--tag K=V]...\n"
	"       cloudprotect local create-disk --name NAME (--size SIZE | --from-image FILE)\n"
	"                                      [--attach INSTANCE_ID] [--tag K=V]...\n"
	"       cloudprotect local write DISK_ID --offset OFFSET\n"
	"                                (--from FILE | --random LEN [--seed N] | --zero LEN)\n"
	"       cloudprotect local delete-instance INSTANCE_ID\n"
	"       cloudprotect local delete-disk DISK_ID\n"
	"       cloudprotect local disk-path DISK_ID\n"
	"\n"
	"The local provider is a cloud in a directory (--local-root or CLOUDPROTECT_LOCAL_ROOT):\n"
	"instances are records, disks are sparse files, snapshots are point-in-time copies.\n"
	"Writes made with 'local write' are tracked per 512 KiB block, so incremental backups\n"
	"read only what changed, as with EBS ListChangedBlocks.\n";

enum {
	OPT_NAME = 1000,
	OPT_TAG,
	OPT_SIZE,
	OPT_FROM_IMAGE,
	OPT_ATTACH,
	OPT_OFFSET,
	OPT_FROM,
	OPT_RANDOM,
	OPT_SEED,
	OPT_ZERO
};

static const struct option local_options[] = {
	{"name", required_argument, NULL, OPT_NAME},
	{"tag", required_argument, NULL, OPT_TAG},
	{"size", required_argument, NULL, OPT_SIZE},
	{"from-image", required_argument, NULL, OPT_FROM_IMAGE},
	{"attach", required_argument, NULL, OPT_ATTACH},
	{"offset", required_argument, NULL, OPT_OFFSET},
	{"from", required_argument, NULL, OPT_FROM},
	{"random", required_argument, NULL, OPT_RANDOM},
	{"seed", required_argument, NULL, OPT_SEED},
	{"zero", required_argument, NULL, OPT_ZERO},
	{NULL, 0, NULL, 0},
};

typedef struct {
	const char *name, *from_image, *attach, *from;
	uint64_t size, offset, random_len, zero_len, seed;
	int have_size, have_offset, have_random, have_zero;
	cp_tag tags[MAX_TAGS];
	size_t ntags;
} local_args;

static int parse(local_args *a, int argc, char **argv, const char *cmd)
{
	int opt;
	memset(a, 0, sizeof(*a));
	a->seed = 1;
	while ((opt = getopt_long(argc, argv, "", local_options, NULL)) != -1) {
		uint64_t *size_target = NULL;
		int *flag = NULL;
		switch (opt) {
		case OPT_NAME: a->name = optarg; break;
		case OPT_FROM_IMAGE: a->from_image = optarg; break;
		case OPT_ATTACH: a->attach = optarg; break;
		case OPT_FROM: a->from = optarg; break;
		case OPT_TAG:
			if (a->ntags == MAX_TAGS || cli_parse_tag(optarg, &a->tags[a->ntags]))
				return cli_usage_error(cmd, "--tag wants KEY=VALUE, got '%s'",
						       optarg);
			a->ntags++;
			break;
		case OPT_SIZE:
			size_target = &a->size;
			flag = &a->have_size;
			break;
		case OPT_OFFSET:
			size_target = &a->offset;
			flag = &a->have_offset;
			break;
		case OPT_RANDOM:
			size_target = &a->random_len;
			flag = &a->have_random;
			break;
		case OPT_ZERO:
			size_target = &a->zero_len;
			flag = &a->have_zero;
			break;
		case OPT_SEED: size_target = &a->seed; break;
		default: return cli_usage_error(cmd, "unknown option");
		}
		if (size_target) {
			if (cli_parse_size(optarg, size_target))
				return cli_usage_error(
					cmd, "'%s' is not a size (e.g. 4096, 512K, 2G)", optarg);
			if (flag)
				*flag = 1;
		}
	}
	return 0;
}

static int print_id(cli *c, const char *key, const char *id)
{
	if (c->json) {
		cli_json_begin(c, 0);
		cli_json_str(c, key, id);
		cli_json_end(c, 0);
	} else {
		printf("%s\n", id);
	}
	return EXIT_OK;
}

static int write_chunks(cli *c, const char *disk, const local_args *a)
{
	const size_t step = 4u << 20;
	uint64_t len = a->have_random ? a->random_len : a->zero_len;
	int fd = -1;
	if (a->from) {
		fd = open(a->from, O_RDONLY);
		if (fd < 0) {
			perror(a->from);
			return EXIT_ERROR;
		}
		len = (uint64_t)lseek(fd, 0, SEEK_END);
	}
	char *buf = calloc(1, step);
	if (!buf) {
		if (fd >= 0)
			close(fd);
		return EXIT_ERROR;
	}
	uint64_t x = a->seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
	int status = EXIT_OK;
	for (uint64_t done = 0; done < len && status == EXIT_OK;) {
		size_t n = len - done < step ? (size_t)(len - done) : step;
		if (fd >= 0 && pread(fd, buf, n, (off_t)done) != (ssize_t)n) {
			perror(a->from);
			status = EXIT_ERROR;
			break;
		}
		if (a->have_random) {
			for (size_t i = 0; i < n; i++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				buf[i] = (char)(x >> 29);
			}
		}
		int rc = cp_local_disk_write(c->provider, disk, a->offset + done, buf, n);
		if (rc)
			status = cli_fail(c, rc, "write failed");
		done += n;
	}
	free(buf);
	if (fd >= 0)
		close(fd);
	if (status == EXIT_OK && c->json) {
		cli_json_begin(c, 0);
		cli_json_str(c, "disk", disk);
		cli_json_uint(c, "offset", a->offset);
		cli_json_uint(c, "length", len);
		cli_json_end(c, 0);
	}
	return status;
}

int cmd_local(cli *c, int argc, char **argv)
{
	if (argc < 2 || cli_wants_help(argc, argv, usage_text)) {
		if (argc < 2) {
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
		return EXIT_OK;
	}
	if (strcmp(c->provider_name, "local"))
		return cli_usage_error("local", "these commands need --provider local (now '%s')",
				       c->provider_name);
	const char *sub = argv[1];
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "local %s", sub);
	local_args a;
	int status = parse(&a, argc - 1, argv + 1, cmd);
	if (status)
		return status;
	int npos = argc - 1 - optind;
	char **pos = argv + 1 + optind;
	if ((status = cli_open_provider(c)))
		return status;

	char *id = NULL;
	int rc;
	if (!strcmp(sub, "init")) {
		if ((rc = cp_local_init(c->provider)))
			return cli_fail(c, rc, "cannot initialise the local cloud");
		if (!c->quiet && !c->json)
			printf("local cloud ready\n");
		return EXIT_OK;
	} else if (!strcmp(sub, "create-instance")) {
		if (!a.name)
			return cli_usage_error(cmd, "--name is required");
		if ((rc = cp_local_instance_create(&id, c->provider, a.name, a.tags, a.ntags)))
			return cli_fail(c, rc, "cannot create the instance");
		status = print_id(c, "instance", id);
	} else if (!strcmp(sub, "create-disk")) {
		if (!a.name || (!a.have_size && !a.from_image))
			return cli_usage_error(cmd, "--name and one of --size or --from-image are "
						    "required");
		cp_local_disk_options o = CP_LOCAL_DISK_OPTIONS_INIT;
		o.name = a.name;
		o.size = a.size;
		o.from_image = a.from_image;
		o.attach_to = a.attach;
		o.tags = a.tags;
		o.ntags = a.ntags;
		if ((rc = cp_local_disk_create(&id, c->provider, &o)))
			return cli_fail(c, rc, "cannot create the disk");
		status = print_id(c, "disk", id);
	} else if (!strcmp(sub, "write")) {
		int sources = (a.from != NULL) + a.have_random + a.have_zero;
		if (npos != 1 || !a.have_offset || sources != 1)
			return cli_usage_error(cmd,
					       "give DISK_ID, --offset and exactly one of --from, "
					       "--random, --zero");
		status = write_chunks(c, pos[0], &a);
	} else if (!strcmp(sub, "delete-instance") || !strcmp(sub, "delete-disk")) {
		if (npos != 1)
			return cli_usage_error(cmd, "give exactly one id");
		rc = sub[7] == 'i' ? cp_local_instance_delete(c->provider, pos[0])
				   : cp_local_disk_delete(c->provider, pos[0]);
		if (rc)
			return cli_fail(c, rc, "cannot delete");
		return EXIT_OK;
	} else if (!strcmp(sub, "disk-path")) {
		if (npos != 1)
			return cli_usage_error(cmd, "give exactly one disk id");
		if ((rc = cp_local_disk_path(&id, c->provider, pos[0])))
			return cli_fail(c, rc, "cannot find the disk");
		status = print_id(c, "path", id);
	} else {
		return cli_usage_error("local", "unknown subcommand '%s'", sub);
	}
	cp_free(id);
	return status;
}
