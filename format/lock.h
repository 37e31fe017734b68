/*
 * Repository locks (`locks/<random hex>`): plaintext JSON
 *   {"hostname", "pid", "operation", "created", "expires", "exclusive"}.
 * Backups, copies and checks hold shared locks, prune an exclusive one.
 * A lock is taken by writing it and then listing the others; on a
 * conflict the newcomer removes its own and backs off, so of two racing
 * takers at worst both back off, never both proceed (a listed lock found
 * gone may have been refreshed, so the listing is repeated). Held locks are
 * refreshed by a background thread (a new object, then the old one is
 * removed: objects are never rewritten). A lock is stale when expired,
 * or when it names this host and a process that no longer exists.
 */
#ifndef CP_FORMAT_LOCK_H
#define CP_FORMAT_LOCK_H

#include "format/repository.h"

typedef struct cp_lock_info {
	char hostname[256];
	int64_t pid;
	char operation[32];
	int64_t created;
	int64_t expires;
	int exclusive;
} cp_lock_info;

/** Parse a lock object; CP_EINVALID (error set) when invalid. */
int cp_lock_parse(cp_lock_info *out, const char *text, size_t len);
/** Serialise (appends to out). */
int cp_lock_encode(const cp_lock_info *info, cp_buf *out);
/** 1 when the lock no longer protects anything (expired, or its process is gone). */
int cp_lock_is_stale(const cp_lock_info *info, const char *hostname, int64_t now);

typedef struct cp_repo_lock cp_repo_lock;

/** Take a lock; CP_ELOCKED naming the holder when a conflicting lock is held. */
int cp_repo_lock_acquire(cp_repo_lock **out, cp_repository *repo, int exclusive,
			 const char *operation);

/** CP_ELOCKED when refreshing failed and the lock is (nearly) expired, so it may be broken. */
int cp_repo_lock_check(cp_repo_lock *lock);

/** Stop refreshing and remove the lock; NULL is fine. */
void cp_repo_lock_release(cp_repo_lock *lock);

#endif
