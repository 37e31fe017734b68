/* The one registry of provider and object store backends. */
#ifndef CP_LIB_REGISTRY_H
#define CP_LIB_REGISTRY_H

#include "cloudprotect/sys/objstore.h"
#include "cloudprotect/sys/provider.h"

/** Register the built-in backends once; safe to call from any thread. */
int cp_registry_init(void);

const cp_provider_ops *cp_registry_provider(const char *name);
const cp_objstore_ops *cp_registry_objstore(const char *scheme);

/* Built-in backends (backends/<name>/). */
extern const cp_provider_ops cp_local_provider_ops;
extern const cp_provider_ops cp_aws_provider_ops;
extern const cp_objstore_ops cp_file_objstore_ops;
extern const cp_objstore_ops cp_azblob_objstore_ops;
extern const cp_objstore_ops cp_gcs_objstore_ops;
extern const cp_objstore_ops cp_s3_objstore_ops;

#endif
