/*
 * FSx file systems as inventory (kind fileshare): DescribeFileSystems of
 * the JSON 1.1 API, paged with NextToken.
 */
#include "backup_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const aws_api aws_api_fsx = {
	.name = "FSx",
	.service = "fsx",
	.env_name = "FSX",
	.host_prefix = "fsx",
	.target_prefix = "AWSSimbaAPIService_v20180301",
	.json_version = "1.1",
};

static int one_fs(yajl_val fs, void *arg)
{
	cp_resource r = {0};
	r.kind = CP_RESOURCE_FILESHARE;
	/* FSx states capacity, not usage, in GiB. */
	r.size = aws_json_u64(fs, "StorageCapacity") * GIB;
	return backup_report_item(arg, fs, "ResourceARN", &r, cp_json_str(fs, "FileSystemId"));
}

int fsx_inventory(aws_provider *p, const char *region, const cp_inventory_filter *f,
		  cp_resource_cb cb, void *payload)
{
	if (!backup_filter_wants(f, "arn:aws:fsx:"))
		return 0;
	backup_listing l = {region, f, cb, payload};
	char *token = NULL;
	int rc = 0;
	do {
		cp_buf body = CP_BUF_INIT;
		cp_json_writer w;
		yajl_val out = NULL;
		rc = cp_json_writer_init(&w, 0);
		if (!rc) {
			cp_json_begin_map(&w);
			cp_json_kv_int(&w, "MaxResults", p->page_size);
			if (token)
				cp_json_kv_str(&w, "NextToken", token);
			cp_json_end_map(&w);
			rc = cp_json_writer_finish(&w, &body);
			cp_json_writer_dispose(&w);
		}
		free(token);
		token = NULL;
		rc = rc ? rc
			: aws_json_call(p, &aws_api_fsx, region, "DescribeFileSystems", NULL, NULL,
					body.ptr, &out);
		rc = rc ? rc : aws_json_page(out, "FileSystems", one_fs, &l, "NextToken", &token);
		yajl_tree_free(out);
		cp_buf_dispose(&body);
	} while (!rc && token);
	free(token);
	return rc;
}
