/* Where installed data (price tables) lives; tests and relocated installs override it. */
#include "cloudprotect/cost.h"
#include "cost/cost_config.h"

#include <stdlib.h>

const char *cp_data_dir(void)
{
	const char *env = getenv("CLOUDPROTECT_DATA_DIR");
	return env && *env ? env : CP_DATADIR;
}
