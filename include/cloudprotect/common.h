/*
 * libcloudprotect - common definitions: export macros, context, errors,
 * logging and progress.
 */
#ifndef CLOUDPROTECT_COMMON_H
#define CLOUDPROTECT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define CP_BEGIN_DECL extern "C" {
#define CP_END_DECL   }
#else
#define CP_BEGIN_DECL
#define CP_END_DECL
#endif

#if defined(__GNUC__) || defined(__clang__)
#define CP_EXTERN(type) extern __attribute__((visibility("default"))) type
#else
#define CP_EXTERN(type) extern type
#endif

CP_BEGIN_DECL

/** Error codes. Every fallible function returns 0 or one of these. */
typedef enum {
	CP_OK = 0,
	CP_ERROR = -1,	       /**< generic failure; see cp_error_last() */
	CP_ENOTFOUND = -3,     /**< the named thing does not exist */
	CP_EEXISTS = -4,       /**< the thing to create already exists */
	CP_EINVALID = -5,      /**< bad input: arguments, URL, config, policy */
	CP_EAUTH = -6,	       /**< credentials missing, wrong or not allowed */
	CP_EPASSWORD = -7,     /**< wrong repository password */
	CP_ECORRUPT = -8,      /**< stored data fails verification */
	CP_ENOSPC = -9,	       /**< no space left on the target */
	CP_ECANCELLED = -10,   /**< cancelled by a progress callback */
	CP_ELOCKED = -11,      /**< held by another process; retry later */
	CP_EUNSUPPORTED = -12, /**< the backend cannot do this */
	CP_ETHROTTLED = -13,   /**< the cloud kept throttling past the budget */
	CP_ETIMEOUT = -14,     /**< an operation ran out of time */
	CP_EIO = -15,	       /**< local or network I/O failed */
	CP_ENOMEM = -16,       /**< out of memory */
	CP_EBUSY = -17,	       /**< not ready yet (e.g. snapshot still pending) */
} cp_error_code;

/** Which layer reported an error. */
typedef enum {
	CP_ERRCLASS_NONE = 0,
	CP_ERRCLASS_OS,
	CP_ERRCLASS_NOMEMORY,
	CP_ERRCLASS_INVALID,
	CP_ERRCLASS_CONFIG,
	CP_ERRCLASS_PROVIDER,
	CP_ERRCLASS_OBJSTORE,
	CP_ERRCLASS_REPOSITORY,
	CP_ERRCLASS_HTTP,
	CP_ERRCLASS_AUTH,
	CP_ERRCLASS_POLICY,
	CP_ERRCLASS_CALLBACK,
} cp_error_class;

/** Details of the last error on the calling thread. */
typedef struct cp_error {
	int code;		/**< a cp_error_code */
	int klass;		/**< a cp_error_class */
	const char *message;	/**< what failed and how to fix it; never NULL */
	int http_status;	/**< HTTP status when a cloud answered, else 0 */
	const char *cloud_code; /**< the cloud's error code, or NULL */
	const char *request_id; /**< the cloud's request id, or NULL */
} cp_error;

/**
 * The last error raised on this thread, or NULL when none. The pointer
 * stays valid until the next failing call on the same thread.
 */
CP_EXTERN(const cp_error *) cp_error_last(void);

/** Forget the last error of this thread. */
CP_EXTERN(void) cp_error_clear(void);

/** A short name for an error code ("not found", "locked", ...). */
CP_EXTERN(const char *) cp_error_code_name(int code);

/** The library version as "MAJOR.MINOR.PATCH". */
CP_EXTERN(const char *) cp_version(void);

/** The library version as numbers; any pointer may be NULL. */
CP_EXTERN(void) cp_version_numbers(int *major, int *minor, int *patch);

typedef enum {
	CP_LOG_ERROR = 0,
	CP_LOG_WARN,
	CP_LOG_INFO,
	CP_LOG_DEBUG,
	CP_LOG_TRACE,
} cp_log_level;

/** Receives one log line. Never contains secrets. */
typedef void (*cp_log_cb)(cp_log_level level, const char *message, void *payload);

/** What a long operation reports as it goes. */
typedef struct cp_progress {
	const char *phase; /**< "snapshot", "read", "upload", "restore", ... */
	uint64_t done;	   /**< units done so far (bytes unless stated) */
	uint64_t total;	   /**< units in all, 0 when unknown */
	uint64_t stored;   /**< bytes newly stored (after dedup/compress) */
	const char *item;  /**< what is being worked on, or NULL */
} cp_progress;

/** Progress callback; return non-zero to cancel (CP_ECANCELLED). */
typedef int (*cp_progress_cb)(const cp_progress *progress, void *payload);

typedef struct cp_ctx cp_ctx;

typedef struct cp_ctx_options {
	unsigned int version;
	cp_log_cb log_cb; /**< NULL: no logging */
	void *log_payload;
	cp_log_level log_level; /**< lines above this level are dropped */
	unsigned int threads;	/**< worker threads for data paths; 0 = auto */

	/*
	 * Version 2: how every HTTP client made from this context reaches the
	 * clouds. Strings are copied by cp_ctx_new.
	 */
	/**
	 * Proxy URL ("http://host:3128"). NULL: the environment as libcurl
	 * reads it (http_proxy, https_proxy/HTTPS_PROXY, all_proxy, no_proxy).
	 * "": no proxy at all, whatever the environment says.
	 */
	const char *proxy;
	/** Hosts that bypass the proxy ("localhost,.internal"); NULL: $no_proxy. */
	const char *no_proxy;
	/**
	 * CA bundle file / directory that TLS peers are verified against.
	 * When either is set, the environment is ignored. Else, in order:
	 * $AWS_CA_BUNDLE (AWS endpoints only, as the AWS CLI does),
	 * $CURL_CA_BUNDLE, $SSL_CERT_FILE (and $SSL_CERT_DIR), the system store.
	 */
	const char *ca_file;
	const char *ca_path;
	/** Non-zero: do not verify TLS peers (local emulators only). Logged once as a warning. */
	int insecure_tls;
	/* Per-request budgets; 0 keeps each client's own default. */
	unsigned int connect_timeout_ms; /**< to open a connection (default 10 s) */
	unsigned int low_speed_time_s;	 /**< cut a transfer this long below low_speed_bytes/s */
	unsigned int low_speed_bytes;	 /**< (default: below 1 byte/s for 30 s) */
	unsigned int max_attempts;	 /**< per request, first try included (default 5) */
	unsigned int time_budget_ms;	 /**< per request, all retries included (default 15 min) */
} cp_ctx_options;

#define CP_CTX_OPTIONS_VERSION 2
#define CP_CTX_OPTIONS_INIT                                                                        \
	{                                                                                          \
		CP_CTX_OPTIONS_VERSION, NULL, NULL, CP_LOG_INFO, 0, NULL, NULL, NULL, NULL, 0, 0,  \
			0, 0, 0, 0                                                                 \
	}

/** Initialise an options struct to its defaults. */
CP_EXTERN(int) cp_ctx_options_init(cp_ctx_options *opts, unsigned int version);

/**
 * Create a context: the root of every other handle. One context may be
 * used from several threads; handles made from it may not be shared
 * between threads unless documented. opts may be NULL.
 */
CP_EXTERN(int) cp_ctx_new(cp_ctx **out, const cp_ctx_options *opts);

/** Free a context. All handles made from it must be freed first. */
CP_EXTERN(void) cp_ctx_free(cp_ctx *ctx);

/** Free memory that the library allocated and handed to the caller. */
CP_EXTERN(void) cp_free(void *ptr);

CP_END_DECL

#endif
