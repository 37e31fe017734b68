/* Start and stop the tests/cloudsim fake servers, and talk to their control endpoints. */
#ifndef CP_TEST_SIM_H
#define CP_TEST_SIM_H

#include "cloudprotect/sys/objstore.h"

#include <sys/types.h>

typedef struct tu_sim {
	pid_t pid;
	int stdin_fd; /* closing it makes the server exit */
	int port;
	int port2;     /* a second port when the server prints one (Azurite: queue) */
	char base[64]; /* "http://127.0.0.1:PORT" */
} tu_sim;

/**
 * Run `python script args...` (script relative to tests/cloudsim) and wait
 * for its "PORT n" line. python NULL means "python3" from PATH. Aborts the
 * test run when the server cannot start, since every test needs it.
 */
void tu_sim_start(tu_sim *sim, const char *python, const char *script, const char *const *args);
/** The same for any command printing "PORT n [m]" (argv[0] is looked up in PATH). */
void tu_sim_start_cmd(tu_sim *sim, const char *const *argv);
void tu_sim_stop(tu_sim *sim);

/** Plain libcurl (not the code under test): POST a JSON control document. */
void tu_sim_post(const tu_sim *sim, const char *path, const char *json);
/** GET a path into out (cleared first); returns the HTTP status. */
long tu_sim_get(const tu_sim *sim, const char *path, cp_buf *out);
/** Count requests in the sim's log matching method and path (NULL = any). */
int tu_sim_count(const tu_sim *sim, const char *method, const char *path);

/** $CLOUDPROTECT_SOURCE_ROOT/rel, malloc'd. */
char *tu_source_path(const char *rel);

/**
 * Run argv with stdin from in (may be NULL) and collect stdout into out;
 * returns the exit status (or -1). stderr is passed through.
 */
int tu_run_capture(const char *const *argv, const char *in, size_t in_len, cp_buf *out);

#endif
