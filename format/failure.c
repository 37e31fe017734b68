#include "format/failure.h"

#include <stdlib.h>
#include <string.h>

void cp_failure_init(cp_failure *f)
{
	memset(&f->err, 0, sizeof(f->err));
	pthread_mutex_init(&f->mu, NULL);
	atomic_init(&f->rc, 0);
}

void cp_failure_dispose(cp_failure *f)
{
	free(f->err.message);
	free(f->err.cloud_code);
	free(f->err.request_id);
	memset(&f->err, 0, sizeof(f->err));
	pthread_mutex_destroy(&f->mu);
}

int cp_failure_set(cp_failure *f, int rc)
{
	if (!rc)
		return 0;
	pthread_mutex_lock(&f->mu);
	if (!atomic_load(&f->rc)) {
		const cp_error *e = cp_error_last();
		if (!e || e->code != rc)
			cp_error_set(rc, CP_ERRCLASS_NONE, "%s", cp_error_code_name(rc));
		cp_error_save(&f->err);
		atomic_store(&f->rc, rc);
	}
	pthread_mutex_unlock(&f->mu);
	return rc;
}

int cp_failure_raise(cp_failure *f)
{
	pthread_mutex_lock(&f->mu);
	int rc = atomic_load(&f->rc);
	if (rc) {
		/* Restore a copy so that a second raise reports the same error. */
		cp_error_saved copy = f->err;
		copy.message = f->err.message ? strdup(f->err.message) : NULL;
		copy.cloud_code = f->err.cloud_code ? strdup(f->err.cloud_code) : NULL;
		copy.request_id = f->err.request_id ? strdup(f->err.request_id) : NULL;
		cp_error_restore(&copy);
	}
	pthread_mutex_unlock(&f->mu);
	return rc;
}
