/*
 * The queue of block writes (lib/write_queue.h): every block put reaches
 * the sink once with its own bytes, from several producers; memory stays
 * bounded (a put waits while every buffer is taken); the first failed
 * write fails later puts and the drain with its own message; freeing a
 * queue with blocks still in it neither hangs nor leaks.
 */
#include "cloudprotect.h"
#include "testutil.h"
#include "write_queue.h"

#include "error.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK	  4096u
#define NBLOCKS	  512u
#define PRODUCERS 3u
#define THREADS	  4u
#define SPARE	  2u

typedef struct {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int hold;	    /* sink calls wait while set */
	uint8_t *seen;	    /* per block: times written */
	atomic_int calls;   /* sink calls so far */
	atomic_int fail_at; /* the call number that fails, or -1 */
	int bad;	    /* a block came with the wrong bytes or offset */
} sink_state;

static void fill(uint8_t *b, uint64_t block)
{
	for (unsigned int i = 0; i < BLOCK; i++)
		b[i] = (uint8_t)(block * 31 + i);
}

static int sink(void *arg, uint64_t offset, const void *data, size_t len)
{
	sink_state *s = arg;
	pthread_mutex_lock(&s->mu);
	while (s->hold)
		pthread_cond_wait(&s->cond, &s->mu);
	pthread_mutex_unlock(&s->mu);
	int n = atomic_fetch_add(&s->calls, 1);
	if (n == atomic_load(&s->fail_at))
		return cp_error_set(CP_EIO, CP_ERRCLASS_OS, "disk on fire at %llu",
				    (unsigned long long)offset);
	uint8_t want[BLOCK];
	uint64_t block = offset / BLOCK;
	fill(want, block);
	pthread_mutex_lock(&s->mu);
	if (offset % BLOCK || block >= NBLOCKS || len != BLOCK || memcmp(want, data, len))
		s->bad = 1;
	else
		s->seen[block]++;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

static void state_init(sink_state *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->seen = calloc(NBLOCKS, 1);
	ck_assert_ptr_nonnull(s->seen);
	atomic_init(&s->fail_at, -1);
}

static void state_dispose(sink_state *s)
{
	free(s->seen);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->mu);
}

static void set_hold(sink_state *s, int hold)
{
	pthread_mutex_lock(&s->mu);
	s->hold = hold;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mu);
}

typedef struct {
	cp_write_queue *q;
	unsigned int first;
	int rc;
	atomic_int done;
} producer;

static void *produce(void *p)
{
	producer *a = p;
	uint8_t buf[BLOCK];
	for (unsigned int b = a->first; b < NBLOCKS && !a->rc; b += PRODUCERS) {
		fill(buf, b);
		a->rc = cp_write_queue_put(a->q, (uint64_t)b * BLOCK, buf, BLOCK);
		/* The queue copied it: scribbling over ours must not matter. */
		memset(buf, 0xee, sizeof(buf));
	}
	cp_error_clear();
	atomic_store(&a->done, 1);
	return NULL;
}

START_TEST(every_block_reaches_the_sink_once)
{
	sink_state s;
	state_init(&s);
	cp_write_queue *q = NULL;
	tu_ok(cp_write_queue_start(&q, THREADS, SPARE, BLOCK, sink, &s, "test writes"));
	pthread_t th[PRODUCERS];
	producer args[PRODUCERS];
	for (unsigned int t = 0; t < PRODUCERS; t++) {
		args[t] = (producer){q, t, 0, 0};
		ck_assert_int_eq(pthread_create(&th[t], NULL, produce, &args[t]), 0);
	}
	for (unsigned int t = 0; t < PRODUCERS; t++) {
		pthread_join(th[t], NULL);
		ck_assert_int_eq(args[t].rc, 0);
	}
	tu_ok(cp_write_queue_drain(q));
	for (unsigned int b = 0; b < NBLOCKS; b++)
		ck_assert_int_eq(s.seen[b], 1);
	ck_assert_int_eq(s.bad, 0);
	cp_write_queue_free(q);
	state_dispose(&s);
}
END_TEST

START_TEST(a_put_waits_while_every_buffer_is_taken)
{
	sink_state s;
	state_init(&s);
	set_hold(&s, 1);
	cp_write_queue *q = NULL;
	tu_ok(cp_write_queue_start(&q, THREADS, SPARE, BLOCK, sink, &s, "test writes"));
	uint8_t buf[BLOCK];
	/* THREADS blocks in the sink, SPARE queued: all the buffers there are. */
	for (unsigned int b = 0; b < THREADS + SPARE; b++) {
		fill(buf, b);
		tu_ok(cp_write_queue_put(q, (uint64_t)b * BLOCK, buf, BLOCK));
	}
	producer one = {q, THREADS + SPARE, 0, 0};
	pthread_t th;
	/* This producer's blocks start at THREADS + SPARE, one in PRODUCERS. */
	ck_assert_int_eq(pthread_create(&th, NULL, produce, &one), 0);
	usleep(200 * 1000);
	ck_assert_int_eq(atomic_load(&one.done), 0);
	set_hold(&s, 0);
	pthread_join(th, NULL);
	ck_assert_int_eq(one.rc, 0);
	tu_ok(cp_write_queue_drain(q));
	ck_assert_int_eq(s.bad, 0);
	ck_assert_int_eq(atomic_load(&s.calls),
			 THREADS + SPARE +
				 (NBLOCKS - (THREADS + SPARE) + PRODUCERS - 1) / PRODUCERS);
	cp_write_queue_free(q);
	state_dispose(&s);
}
END_TEST

START_TEST(the_first_failure_fails_later_puts_and_the_drain)
{
	sink_state s;
	state_init(&s);
	atomic_store(&s.fail_at, 5);
	cp_write_queue *q = NULL;
	tu_ok(cp_write_queue_start(&q, THREADS, SPARE, BLOCK, sink, &s, "test writes"));
	uint8_t buf[BLOCK];
	int rc = 0;
	unsigned int b = 0;
	for (; b < NBLOCKS && !rc; b++) {
		fill(buf, b);
		rc = cp_write_queue_put(q, (uint64_t)b * BLOCK, buf, BLOCK);
	}
	if (!rc)
		rc = cp_write_queue_drain(q);
	ck_assert_int_eq(rc, CP_EIO);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "disk on fire"));
	/* And again: the same failure, not a success. */
	cp_error_clear();
	ck_assert_int_eq(cp_write_queue_drain(q), CP_EIO);
	ck_assert_ptr_nonnull(strstr(cp_error_last()->message, "disk on fire"));
	cp_error_clear();
	ck_assert_int_eq(cp_write_queue_put(q, 0, buf, BLOCK), CP_EIO);
	cp_error_clear();
	cp_write_queue_free(q);
	state_dispose(&s);
}
END_TEST

START_TEST(freeing_with_blocks_queued_drops_them)
{
	sink_state s;
	state_init(&s);
	set_hold(&s, 1);
	cp_write_queue *q = NULL;
	tu_ok(cp_write_queue_start(&q, 1, SPARE, BLOCK, sink, &s, "test writes"));
	uint8_t buf[BLOCK];
	for (unsigned int b = 0; b < 1 + SPARE; b++) {
		fill(buf, b);
		tu_ok(cp_write_queue_put(q, (uint64_t)b * BLOCK, buf, BLOCK));
	}
	usleep(50 * 1000); /* let the thread take the first into the sink */
	/* Release the sink from another thread once free is waiting for it. */
	set_hold(&s, 0);
	cp_write_queue_free(q);
	/* The block under way finished; the queued ones may have been dropped. */
	ck_assert_int_ge(atomic_load(&s.calls), 1);
	ck_assert_int_le(atomic_load(&s.calls), 1 + SPARE);
	ck_assert_int_eq(s.bad, 0);
	state_dispose(&s);
}
END_TEST

START_TEST(an_oversized_put_is_refused)
{
	sink_state s;
	state_init(&s);
	cp_write_queue *q = NULL;
	tu_ok(cp_write_queue_start(&q, 1, 0, BLOCK, sink, &s, "test writes"));
	uint8_t buf[BLOCK + 1];
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(cp_write_queue_put(q, 0, buf, BLOCK + 1), CP_EINVALID);
	cp_error_clear();
	tu_ok(cp_write_queue_drain(q));
	ck_assert_int_eq(atomic_load(&s.calls), 0);
	cp_write_queue_free(q);
	state_dispose(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("write_queue");
	TCase *tc = tcase_create("queue");
	tcase_add_test(tc, every_block_reaches_the_sink_once);
	tcase_add_test(tc, a_put_waits_while_every_buffer_is_taken);
	tcase_add_test(tc, the_first_failure_fails_later_puts_and_the_drain);
	tcase_add_test(tc, freeing_with_blocks_queued_drops_them);
	tcase_add_test(tc, an_oversized_put_is_refused);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
