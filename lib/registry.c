#include "registry.h"
#include "error.h"

#include <pthread.h>
#include <string.h>

#define MAX_BACKENDS 32

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const cp_provider_ops *providers[MAX_BACKENDS + 1];
static const char *provider_names[MAX_BACKENDS + 1];
static size_t nproviders;
static const cp_objstore_ops *stores[MAX_BACKENDS];
static size_t nstores;
static pthread_once_t builtins_once = PTHREAD_ONCE_INIT;
static int builtins_rc;

static int check_version(unsigned int have, unsigned int min, const char *what, const char *name)
{
	if (have < min || have > 1000)
		return cp_error_set(
			CP_EINVALID, CP_ERRCLASS_INVALID,
			"%s backend '%s' has table version %u; this library needs %u or later",
			what, name, have, min);
	return 0;
}

int cp_provider_register(const cp_provider_ops *ops)
{
	if (!ops || !ops->name || !ops->open)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "provider backend needs a name and an open operation");
	int rc = check_version(ops->version, 1, "provider", ops->name);
	if (rc)
		return rc;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nproviders; i++) {
		if (!strcmp(providers[i]->name, ops->name)) {
			pthread_mutex_unlock(&lock);
			return cp_error_set(CP_EEXISTS, CP_ERRCLASS_PROVIDER,
					    "a provider named '%s' is already registered",
					    ops->name);
		}
	}
	if (nproviders == MAX_BACKENDS) {
		pthread_mutex_unlock(&lock);
		return cp_error_set(CP_ERROR, CP_ERRCLASS_PROVIDER, "too many provider backends");
	}
	provider_names[nproviders] = ops->name;
	providers[nproviders++] = ops;
	pthread_mutex_unlock(&lock);
	return 0;
}

int cp_objstore_register(const cp_objstore_ops *ops)
{
	if (!ops || !ops->scheme || !ops->open)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "object store backend needs a scheme and an open operation");
	int rc = check_version(ops->version, 1, "object store", ops->scheme);
	if (rc)
		return rc;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nstores; i++) {
		if (!strcmp(stores[i]->scheme, ops->scheme)) {
			pthread_mutex_unlock(&lock);
			return cp_error_set(CP_EEXISTS, CP_ERRCLASS_OBJSTORE,
					    "an object store for '%s://' is already registered",
					    ops->scheme);
		}
	}
	if (nstores == MAX_BACKENDS) {
		pthread_mutex_unlock(&lock);
		return cp_error_set(CP_ERROR, CP_ERRCLASS_OBJSTORE,
				    "too many object store backends");
	}
	stores[nstores++] = ops;
	pthread_mutex_unlock(&lock);
	return 0;
}

static void register_builtins(void)
{
	builtins_rc = cp_provider_register(&cp_local_provider_ops);
	if (!builtins_rc)
		builtins_rc = cp_provider_register(&cp_aws_provider_ops);
	if (!builtins_rc)
		builtins_rc = cp_objstore_register(&cp_file_objstore_ops);
	if (!builtins_rc)
		builtins_rc = cp_objstore_register(&cp_azblob_objstore_ops);
	if (!builtins_rc)
		builtins_rc = cp_objstore_register(&cp_gcs_objstore_ops);
	if (!builtins_rc)
		builtins_rc = cp_objstore_register(&cp_s3_objstore_ops);
}

int cp_registry_init(void)
{
	pthread_once(&builtins_once, register_builtins);
	return builtins_rc;
}

const cp_provider_ops *cp_registry_provider(const char *name)
{
	const cp_provider_ops *found = NULL;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nproviders && !found; i++)
		if (!strcmp(providers[i]->name, name))
			found = providers[i];
	pthread_mutex_unlock(&lock);
	return found;
}

const cp_objstore_ops *cp_registry_objstore(const char *scheme)
{
	const cp_objstore_ops *found = NULL;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nstores && !found; i++)
		if (!strcmp(stores[i]->scheme, scheme))
			found = stores[i];
	pthread_mutex_unlock(&lock);
	return found;
}

int cp_provider_names(const char *const **out)
{
	int rc = cp_registry_init();
	if (rc)
		return rc;
	*out = provider_names;
	return 0;
}
