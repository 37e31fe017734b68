/*
 * A fault-injecting object store for crash and race tests (STYLE.md: test
 * everything above the store with a store that fails on purpose).
 *
 * "fault:///path" is the file store at /path, except that the process can
 * be killed, or made to wait, at its Nth change to the store. Changes are
 * counted over all threads of the process: a put, a streamed upload's open,
 * write and commit, a remove and a retain. Crash points then follow the
 * work done rather than the clock, so a test means the same on a fast
 * machine and on a slow, busy one.
 */
#ifndef CP_TEST_FAULTSTORE_H
#define CP_TEST_FAULTSTORE_H

#include <stddef.h>

/** Register the "fault" scheme; call once, before the first fork. */
void fault_store_register(void);

/** out = "fault://..." for a "file://..." URL. */
void fault_store_url(char *out, size_t size, const char *file_url);

/** Changes made through fault stores in this process since the last reset. */
unsigned long fault_store_changes(void);

/** Zero the count of changes and drop any planned kill or pause. */
void fault_store_reset(void);

/**
 * SIGKILL this process at change n (from 1): before making it when before
 * is non-zero, else right after it (a streamed write then leaves part of an
 * upload behind).
 */
void fault_store_kill_at(unsigned long n, int before);

/**
 * Run fn(arg) once, in the next listing: after the store was listed and
 * before the first key is handed on (to change the store behind a reader).
 */
void fault_store_on_next_list(void (*fn)(void *), void *arg);

/* Stopping a child process at a change, and letting it go on. */
typedef struct fault_pause {
	int paused[2]; /* child -> parent: "I am stopped" */
	int resume[2]; /* parent -> child: "go on" */
} fault_pause;

/** Create the pipes; call before fork. */
void fault_pause_init(fault_pause *p);

/**
 * In the child: right after change n, tell the parent and wait until it
 * resumes this process; changes from other threads wait meanwhile too.
 */
void fault_store_pause_at(unsigned long n, fault_pause *p);

/**
 * In the parent, after fork: 1 once the child has stopped, 0 when it ended
 * without reaching the change. Fails the test after a generous time cap.
 */
int fault_pause_wait(fault_pause *p);

/** In the parent: let a stopped child go on. */
void fault_pause_resume(fault_pause *p);

/** Close what is left of the pipes (in the parent, once the child is waited for). */
void fault_pause_dispose(fault_pause *p);

#endif
