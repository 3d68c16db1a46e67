/* SPDX-License-Identifier: MIT */
/*
 * The workers' idle back-off (gntdp_dp_conf.idle_sleep_us, docs/dataplane.md
 * "Idle back-off"):
 * The client is a hypercall ring, one 64-byte copy per call.
 *  1. idle_sleep_us 200, idle_after_us 1000: a burst of copies completes;
 *     over a quiet 100 ms window, starting 20 ms after the last completion,
 *     the worker sleeps (idle_sleeps grows by more than 50) and polls at most
 *     a few thousand times (a busy-polling worker polls hundreds of thousands
 *     of times); then a copy still completes, and the worker goes back to
 *     busy-polling while copies keep coming.
 *  2. idle_sleep_us 0 (the default): the same window has no sleep and many
 *     more polls than part 1 allows.
 *  3. Limits: idle_sleep_us past GNTDP_DP_MAX_IDLE_SLEEP_US and idle_after_us
 *     past GNTDP_DP_MAX_IDLE_AFTER_US are -EINVAL.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "dp_common.h"

#define REF 8u
#define FRAME 10u
#define SRC_GFN 3u
#define QUIET_MS 100u
#define MAX_SLEEPING_POLLS 5000u

/* @p n hypercalls of one 64-byte copy each, one at a time. */
static int
copies(struct dp_ring *q, unsigned int n)
{
	struct gntdp_gnttab_copy op;

	for (unsigned int i = 0; i < n; i++) {
		int32_t rc = 1;
		int r;

		dp_copy_to_gref(&op, SRC_GFN, 0, DOM_GRANTER, REF, 0, 64);
		r = dp_ring_call(q, GNTDP_GNTTABOP_COPY, &op, 1, i, &rc);
		CHECKF(r == 0 && rc == 0 && op.status == GNTDP_GNTST_OKAY,
		       "copy %u: %d, rc %d, status %d", i, r, rc, op.status);
	}
	return 0;
}

static void
sleep_ms(unsigned int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Polls and sleeps of the one worker over a quiet QUIET_MS window. */
static int
quiet(struct gntdp_dp *dp, uint64_t *polls, uint64_t *sleeps)
{
	struct gntdp_dp_stats a, b;

	sleep_ms(20);
	CHECK(gntdp_dp_stats_get(dp, &a) == 0);
	sleep_ms(QUIET_MS);
	CHECK(gntdp_dp_stats_get(dp, &b) == 0);
	*polls = (b.busy_polls + b.idle_polls) - (a.busy_polls + a.idle_polls);
	*sleeps = b.idle_sleeps - a.idle_sleeps;
	return 0;
}

static int
make_dp(struct test_world *w, uint32_t sleep_us, uint32_t after_us, struct gntdp_dp **dp,
	struct dp_ring *q)
{
	struct gntdp_dp_conf conf;
	struct dp_ring_conf rc;

	gntdp_dp_conf_init(&conf);
	CHECK(conf.idle_sleep_us == 0 && conf.idle_after_us == GNTDP_DP_DEFAULT_IDLE_AFTER_US);
	conf.nb_workers = 1;
	conf.worker_lcores[0] = 1;
	conf.idle_sleep_us = sleep_us;
	conf.idle_after_us = after_us;
	CHECK(gntdp_dp_create(w->gt, &conf, dp) == 0);
	dp_ring_conf_init(&rc, DOM_CLIENT);
	CHECK(dp_ring_create(*dp, w->gt, &rc, q) == 0);
	CHECK(gntdp_dp_start(*dp) == 0);
	return 0;
}

/* Teardown of a part: ring and op area, then the data plane. */
static int
drop_dp(struct gntdp_dp *dp, struct dp_ring *q)
{
	int rc = dp_ring_destroy(dp, q);

	gntdp_dp_destroy(dp);
	CHECKF(rc == 0, "ring destroy: %d", rc);
	return 0;
}

/* A data plane with idle_sleep_us @p sleep_us, 1000 copies, then a quiet window. */
static int
after_work(struct test_world *w, uint32_t sleep_us, const char *tag, struct gntdp_dp **dp,
	   struct dp_ring *q, uint64_t *polls, uint64_t *sleeps)
{
	if (make_dp(w, sleep_us, 1000, dp, q) != 0 || copies(q, 1000) != 0 ||
	    quiet(*dp, polls, sleeps) != 0)
		return -1;
	printf("%s: quiet %u ms: %llu polls, %llu sleeps\n", tag, QUIET_MS,
	       (unsigned long long)*polls, (unsigned long long)*sleeps);
	return 0;
}

static int
part_sleep(struct test_world *w, uint64_t *sleeping_polls)
{
	struct gntdp_dp *dp = NULL;
	struct dp_ring q = {0};
	struct gntdp_dp_stats a, b;
	uint64_t polls, sleeps;
	int rc = 1;

	if (after_work(w, 200, "sleep", &dp, &q, &polls, &sleeps) != 0)
		goto out;
	if (sleeps <= 50 || polls > MAX_SLEEPING_POLLS) {
		fprintf(stderr, "FAIL sleep: an idle worker with idle_sleep_us 200 did not sleep\n");
		goto out;
	}
	*sleeping_polls = polls;
	/* Work wakes it: each copy completes, and no sleep while they keep coming. */
	if (copies(&q, 1) != 0 || gntdp_dp_stats_get(dp, &a) != 0 || copies(&q, 20000) != 0 ||
	    gntdp_dp_stats_get(dp, &b) != 0)
		goto out;
	printf("sleep: 20000 copies back to back: %llu sleeps meanwhile\n",
	       (unsigned long long)(b.idle_sleeps - a.idle_sleeps));
	/*
	 * A worker whose back-off did not reset on work would sleep in about every gap
	 * between two calls (about 20000 here). A loaded machine may deschedule the
	 * client for longer than idle_after_us now and then (up to 92 sleeps were seen
	 * with a bound of 100), so the bound is a twentieth of the calls.
	 */
	if (b.idle_sleeps - a.idle_sleeps > 20000 / 20) {
		fprintf(stderr, "FAIL sleep: the worker slept %llu times while copies kept coming\n",
			(unsigned long long)(b.idle_sleeps - a.idle_sleeps));
		goto out;
	}
	rc = 0;
out:
	return drop_dp(dp, &q) != 0 ? 1 : rc;
}

static int
part_busy(struct test_world *w, uint64_t sleeping_polls)
{
	struct gntdp_dp *dp = NULL;
	struct dp_ring q = {0};
	uint64_t polls, sleeps;
	int rc = 1;

	if (after_work(w, 0, "busy", &dp, &q, &polls, &sleeps) != 0)
		goto out;
	if (sleeps != 0 || polls <= MAX_SLEEPING_POLLS || polls <= 4 * sleeping_polls) {
		fprintf(stderr, "FAIL busy: idle_sleep_us 0 must busy-poll (%llu polls, %llu "
			"sleeps; the sleeping worker polled %llu times)\n",
			(unsigned long long)polls, (unsigned long long)sleeps,
			(unsigned long long)sleeping_polls);
		goto out;
	}
	rc = 0;
out:
	return drop_dp(dp, &q) != 0 ? 1 : rc;
}

static int
part_limits(struct test_world *w)
{
	struct gntdp_dp_conf conf;
	struct gntdp_dp *dp = NULL;

	gntdp_dp_conf_init(&conf);
	conf.idle_sleep_us = GNTDP_DP_MAX_IDLE_SLEEP_US + 1;
	CHECK(gntdp_dp_create(w->gt, &conf, &dp) == -EINVAL);
	gntdp_dp_conf_init(&conf);
	conf.idle_sleep_us = 10;
	conf.idle_after_us = GNTDP_DP_MAX_IDLE_AFTER_US + 1;
	CHECK(gntdp_dp_create(w->gt, &conf, &dp) == -EINVAL);
	printf("limits: past either maximum is -EINVAL\n");
	return 0;
}

int
main(int argc, char **argv)
{
	struct test_world w;
	uint64_t sleeping_polls = 0;
	int rc;

	rc = dp_test_eal("dp_idle", argc, argv);
	if (rc != 0)
		return rc;
	if (dp_test_world(&w) != 0)
		return dp_test_finish(NULL, &w, 1);
	if (dp_test_grant(w.gt, DOM_GRANTER, REF, DOM_CLIENT, FRAME, false) != 0)
		return dp_test_finish(NULL, &w, 1);
	rc = part_sleep(&w, &sleeping_polls);
	if (rc == 0)
		rc = part_busy(&w, sleeping_polls);
	if (rc == 0)
		rc = part_limits(&w);
	printf("%s\n", rc == 0 ? "PASS" : "FAIL");
	return dp_test_finish(NULL, &w, rc);
}
