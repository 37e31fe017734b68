/*
 * A bounded queue of block writes served by its own threads. A block
 * writer whose every write waits (a network round trip, a disk that
 * holds an inode lock across the I/O) copies the block in and returns,
 * so the engine's threads go back to decoding while the queue's threads
 * hand blocks to the sink. Memory stays bounded: at most threads + spare
 * buffers of block_size bytes each, page-aligned so a sink may write
 * them with O_DIRECT; a put waits while all are in use.
 *
 * The first failed sink call fails the next put or drain with that
 * call's own error; blocks still queued then are dropped.
 */
#ifndef CP_WRITE_QUEUE_H
#define CP_WRITE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

/** Writes one block on a queue thread; returns 0 or an error code (its error set). */
typedef int (*cp_write_sink)(void *arg, uint64_t offset, const void *data, size_t len);

typedef struct cp_write_queue cp_write_queue;

/** Start threads (at least 1) serving sink; what names the writes in errors. */
int cp_write_queue_start(cp_write_queue **out, unsigned int threads, unsigned int spare,
			 size_t block_size, cp_write_sink sink, void *arg, const char *what);

/** Copy len (<= block_size) bytes into the queue; fails once a write failed. Thread-safe. */
int cp_write_queue_put(cp_write_queue *q, uint64_t offset, const void *data, size_t len);

/** Wait until every queued block is written; the first failure if one was not. */
int cp_write_queue_drain(cp_write_queue *q);

/** Stop the threads, dropping blocks still queued, and free the queue. NULL is fine. */
void cp_write_queue_free(cp_write_queue *q);

#endif
