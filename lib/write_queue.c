#include "write_queue.h"
#include "format/failure.h"

#include "error.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS  64
#define BUFFER_ALIGN 4096

typedef struct {
	uint64_t offset;
	size_t len;
	char *data;
} slot;

struct cp_write_queue {
	cp_write_sink sink;
	void *arg;
	size_t block_size;
	cp_failure failure;

	pthread_mutex_t mu;  /* guards everything below */
	pthread_cond_t work; /* a block was queued, or the threads should stop */
	pthread_cond_t room; /* a buffer came back, or a write failed */
	slot *ring;	     /* cap slots: count of them from head */
	size_t head, count, cap;
	char **spare; /* buffers not in use */
	size_t nspare, nbuffers;
	unsigned int busy; /* sink calls under way */
	int stopping;
	pthread_t threads[MAX_THREADS];
	unsigned int nthreads;
};

static void *queue_main(void *arg)
{
	cp_write_queue *q = arg;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->count && !q->stopping)
			pthread_cond_wait(&q->work, &q->mu);
		if (!q->count)
			break;
		slot s = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		q->count--;
		int skip = q->stopping || cp_failure_get(&q->failure);
		q->busy++;
		pthread_mutex_unlock(&q->mu);
		if (!skip)
			cp_failure_set(&q->failure, q->sink(q->arg, s.offset, s.data, s.len));
		pthread_mutex_lock(&q->mu);
		q->spare[q->nspare++] = s.data;
		q->busy--;
		pthread_cond_broadcast(&q->room);
	}
	pthread_mutex_unlock(&q->mu);
	cp_error_clear(); /* thread-local errors are not freed at thread exit */
	return NULL;
}

static void queue_stop(cp_write_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->stopping = 1;
	pthread_cond_broadcast(&q->work);
	pthread_mutex_unlock(&q->mu);
	for (unsigned int i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
	q->nthreads = 0;
}

void cp_write_queue_free(cp_write_queue *q)
{
	if (!q)
		return;
	queue_stop(q);
	for (size_t i = 0; i < q->nspare; i++)
		free(q->spare[i]);
	for (size_t i = 0; i < q->count; i++)
		free(q->ring[(q->head + i) % q->cap].data);
	free(q->spare);
	free(q->ring);
	cp_failure_dispose(&q->failure);
	pthread_cond_destroy(&q->work);
	pthread_cond_destroy(&q->room);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

int cp_write_queue_start(cp_write_queue **out, unsigned int threads, unsigned int spare,
			 size_t block_size, cp_write_sink sink, void *arg, const char *what)
{
	*out = NULL;
	cp_write_queue *q = calloc(1, sizeof(*q));
	if (!q)
		return cp_error_oom();
	q->sink = sink;
	q->arg = arg;
	q->block_size = block_size;
	cp_failure_init(&q->failure);
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->work, NULL);
	pthread_cond_init(&q->room, NULL);
	threads = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
	q->cap = (size_t)threads + spare;
	q->ring = calloc(q->cap, sizeof(*q->ring));
	q->spare = calloc(q->cap, sizeof(*q->spare));
	if (!q->ring || !q->spare) {
		cp_write_queue_free(q);
		return cp_error_oom();
	}
	for (; q->nthreads < threads; q->nthreads++)
		if (pthread_create(&q->threads[q->nthreads], NULL, queue_main, q))
			break;
	if (!q->nthreads) {
		cp_write_queue_free(q);
		return cp_error_set(CP_ERROR, CP_ERRCLASS_OS, "cannot start threads for %s", what);
	}
	*out = q;
	return 0;
}

int cp_write_queue_put(cp_write_queue *q, uint64_t offset, const void *data, size_t len)
{
	if (len > q->block_size)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "a queued write of %zu bytes exceeds the block size %zu", len,
				    q->block_size);
	char *buf = NULL;
	pthread_mutex_lock(&q->mu);
	while (!cp_failure_get(&q->failure) && !q->nspare && q->nbuffers >= q->cap)
		pthread_cond_wait(&q->room, &q->mu);
	int rc = cp_failure_raise(&q->failure);
	if (!rc && q->nspare) {
		buf = q->spare[--q->nspare];
	} else if (!rc) {
		void *p = NULL;
		if (posix_memalign(&p, BUFFER_ALIGN, q->block_size))
			rc = cp_error_oom();
		else
			q->nbuffers++;
		buf = p;
	}
	pthread_mutex_unlock(&q->mu);
	if (rc)
		return rc;
	memcpy(buf, data, len);
	pthread_mutex_lock(&q->mu);
	q->ring[(q->head + q->count) % q->cap] = (slot){offset, len, buf};
	q->count++;
	pthread_cond_signal(&q->work);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

int cp_write_queue_drain(cp_write_queue *q)
{
	pthread_mutex_lock(&q->mu);
	while (!cp_failure_get(&q->failure) && (q->count || q->busy))
		pthread_cond_wait(&q->room, &q->mu);
	pthread_mutex_unlock(&q->mu);
	return cp_failure_raise(&q->failure);
}
