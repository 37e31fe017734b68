/* The file:// object store's pieces that live in more than one file. */
#ifndef CP_LOCAL_OBJSTORE_FILE_H
#define CP_LOCAL_OBJSTORE_FILE_H

#include "cloudprotect/sys/objstore.h"

/**
 * A streaming writer into path (whose directory exists): the bytes go to
 * a temporary sibling that commit flushes and renames into place.
 * create_only: commit fails with CP_EEXISTS when path exists.
 */
int cp_file_writer_new(cp_objstore_writer **out, const char *path, int create_only);

#endif
