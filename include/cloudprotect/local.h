/*
 * libcloudprotect - operations of the embedded "local" provider that no
 * real cloud has: making instances and disks, and writing to a disk
 * through the provider so that changed blocks are tracked.
 *
 * The local provider is a cloud in a directory: config {"root": "DIR"}.
 */
#ifndef CLOUDPROTECT_LOCAL_H
#define CLOUDPROTECT_LOCAL_H

#include "provider.h"

CP_BEGIN_DECL

/** Create the directory layout of a local cloud (idempotent). */
CP_EXTERN(int) cp_local_init(cp_provider *provider);

/** Create an instance; *id_out receives its id (cp_free). */
CP_EXTERN(int)
cp_local_instance_create(char **id_out, cp_provider *provider, const char *name, const cp_tag *tags,
			 size_t ntags);

/** Delete an instance; its disks stay, detached. */
CP_EXTERN(int) cp_local_instance_delete(cp_provider *provider, const char *instance_id);

typedef struct cp_local_disk_options {
	unsigned int version;
	const char *name;
	uint64_t size;		/**< bytes; 0 with from_image: the image's size */
	const char *from_image; /**< raw image file to import, or NULL for an empty disk */
	const char *attach_to;	/**< instance id, or NULL */
	const cp_tag *tags;
	size_t ntags;
} cp_local_disk_options;

#define CP_LOCAL_DISK_OPTIONS_VERSION 1
#define CP_LOCAL_DISK_OPTIONS_INIT                                                                 \
	{                                                                                          \
		CP_LOCAL_DISK_OPTIONS_VERSION, NULL, 0, NULL, NULL, NULL, 0                        \
	}

CP_EXTERN(int)
cp_local_disk_create(char **id_out, cp_provider *provider, const cp_local_disk_options *opts);

CP_EXTERN(int) cp_local_disk_delete(cp_provider *provider, const char *disk_id);

/** Write to a disk through the provider; the blocks touched are tracked. */
CP_EXTERN(int)
cp_local_disk_write(cp_provider *provider, const char *disk_id, uint64_t offset, const void *buf,
		    size_t len);

/** The path of a disk's image file (cp_free), to read it directly. */
CP_EXTERN(int) cp_local_disk_path(char **path_out, cp_provider *provider, const char *disk_id);

CP_END_DECL

#endif
