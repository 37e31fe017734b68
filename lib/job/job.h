/* Entry points shared between the operations in lib/job/. */
#ifndef CP_JOB_JOB_H
#define CP_JOB_JOB_H

#include "cloudprotect/backup.h"
#include "format/repository.h"

/** A backup with the parent already resolved to a full id (or NULL). */
int cp_job_backup(char **id_out, cp_backup_stats *stats, cp_repository *repo,
		  cp_block_reader *source, const cp_backup_options *opts, const char *parent_id);

#endif
