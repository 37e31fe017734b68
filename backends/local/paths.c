/* Where the files of a record live, and what to say when one is missing. */
#include "error.h"
#include "local_cloud.h"

#include <stdio.h>
#include <stdlib.h>

char *local_path(const local_cloud *cloud, local_kind kind, const char *id, const char *ext)
{
	char *path = NULL;
	if (asprintf(&path, "%s/%s/%s%s", cloud->root, local_kind_dir(kind), id, ext) < 0)
		return NULL;
	return path;
}

int local_not_found(const local_cloud *cloud, local_kind kind, const char *id)
{
	static const char *const how[] = {
		"`cloudprotect inventory --kind vm` lists instances",
		"`cloudprotect inventory --kind disk` lists disks",
		"`cloudprotect snapshot list` lists snapshots",
	};
	return cp_error_set(CP_ENOTFOUND, CP_ERRCLASS_PROVIDER,
			    "no %s '%s' in the local cloud at '%s' (deleted?); %s",
			    local_kind_noun(kind), id, cloud->root, how[kind]);
}
