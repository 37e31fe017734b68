/* Helpers shared by the local provider tests: a fresh cloud per test. */
#ifndef CP_TEST_LOCAL_FIXTURE_H
#define CP_TEST_LOCAL_FIXTURE_H

#include "cloudprotect.h"
#include "cloudprotect/sys/provider.h"
#include "testutil.h"

#define KIB   1024ull
#define MIB   (1024ull * 1024ull)
#define BLOCK (512ull * 1024ull)

typedef struct {
	char *dir;  /* temp dir holding the cloud */
	char *root; /* dir/cloud */
	cp_ctx *ctx;
	cp_provider *p;
} lf_cloud;

/** Open and initialise a cloud; extra_config is appended to the JSON object (or NULL). */
void lf_open(lf_cloud *c, const char *extra_config);
void lf_close(lf_cloud *c);
/** Open a second handle on the same root (another "process"). */
cp_provider *lf_open_again(lf_cloud *c);

/** Make an instance and return its id (free()). */
char *lf_instance(lf_cloud *c, const char *name);
/** Make an empty disk of size bytes, attached to instance (or NULL); returns its id. */
char *lf_disk(lf_cloud *c, uint64_t size, const char *instance);

/** Snapshots handed to a callback, copied. */
typedef struct {
	char *id, *resource_id, *instance_id, *group_id, *region;
	uint64_t size;
	uint32_t block_size;
	cp_snapshot_state state;
	size_t ntags;
} lf_snap;

typedef struct {
	lf_snap items[64];
	size_t count;
} lf_snaps;

int lf_collect_snapshot(const cp_snapshot *s, void *payload);
void lf_snaps_dispose(lf_snaps *s);
/** Snapshot a resource and return the one snapshot id it made (free()). */
char *lf_snapshot(lf_cloud *c, const char *resource_id);

/** Read a whole snapshot through its block reader (free()). */
unsigned char *lf_read_snapshot(lf_cloud *c, const char *snapshot_id, uint64_t *size);
/** Read a whole file (free()). */
unsigned char *lf_read_file(const char *path, uint64_t *size);

/** Changed ranges between two snapshots, with the pages seen. */
typedef struct {
	cp_block_range *ranges;
	size_t count, cap;
	size_t pages, largest_page;
} lf_ranges;

int lf_collect_ranges(const cp_block_range *ranges, size_t count, void *payload);
void lf_ranges_dispose(lf_ranges *r);

/** Entries in a directory, without . and ... */
int lf_count_files(const char *dir);

/** 1 when the message of the last error contains needle. */
int lf_error_mentions(const char *needle);

#endif
