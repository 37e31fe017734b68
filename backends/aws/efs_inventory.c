/*
 * EFS file systems as inventory (kind fileshare): the REST API's
 * DescribeFileSystems, paged with Marker / NextMarker.
 */
#include "backup_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const aws_api aws_api_efs = {
	.name = "EFS",
	.service = "elasticfilesystem",
	.env_name = "EFS",
	.host_prefix = "elasticfilesystem",
};

static int one_fs(yajl_val fs, void *arg)
{
	const char *name = cp_json_str(fs, "Name");
	cp_resource r = {0};
	r.kind = CP_RESOURCE_FILESHARE;
	r.name = name && *name ? name : cp_json_str(fs, "FileSystemId");
	r.size = aws_json_u64(cp_json_get(fs, "SizeInBytes"), "Value");
	return backup_report_item(arg, fs, "FileSystemArn", &r, NULL);
}

int efs_inventory(aws_provider *p, const char *region, const cp_inventory_filter *f,
		  cp_resource_cb cb, void *payload)
{
	if (!backup_filter_wants(f, "arn:aws:elasticfilesystem:"))
		return 0;
	backup_listing l = {region, f, cb, payload};
	char *marker = NULL;
	int rc = 0;
	do {
		cp_buf path = CP_BUF_INIT;
		yajl_val out = NULL;
		char head[64];
		snprintf(head, sizeof(head), "/2015-02-01/file-systems?MaxItems=%u", p->page_size);
		rc = cp_buf_put(&path, head, strlen(head));
		if (!rc && marker) {
			rc = cp_buf_put(&path, "&Marker=", 8);
			rc = rc ? rc : aws_json_encode(&path, marker);
		}
		free(marker);
		marker = NULL;
		rc = rc ? rc
			: aws_json_call(p, &aws_api_efs, region, "DescribeFileSystems", "GET",
					path.ptr, NULL, &out);
		rc = rc ? rc : aws_json_page(out, "FileSystems", one_fs, &l, "NextMarker", &marker);
		yajl_tree_free(out);
		cp_buf_dispose(&path);
	} while (!rc && marker);
	free(marker);
	return rc;
}
