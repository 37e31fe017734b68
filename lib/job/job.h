/* Entry points shared between the operations in lib/job/. */
#ifndef CP_JOB_JOB_H
#define CP_JOB_JOB_H

#include "cloudprotect/backup.h"
#include "format/manifest.h"
#include "format/repository.h"

/** A backup with the parent already resolved to a full id (or NULL). */
int cp_job_backup(char **id_out, cp_backup_stats *stats, cp_repository *repo,
		  cp_block_reader *source, const cp_backup_options *opts, const char *parent_id);

/** Lock every object a backup needs until since (its start) plus the immutable days. */
int cp_job_retain_backup(cp_repository *repo, const cp_manifest *m, int64_t since);

/** The distinct packs (sorted ids, malloc'd) that a loaded manifest's map references. */
int cp_job_referenced_packs(cp_repository *repo, const cp_manifest *m, uint8_t (**out)[CP_ID_LEN],
			    size_t *n_out);

#endif
