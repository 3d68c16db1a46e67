/* SPDX-License-Identifier: MIT */
/*
 * Telemetry: run some traffic, then query the /gntdp/ commands over the
 * telemetry socket (<runtime dir>/dpdk_telemetry.v2, a unix SOCK_SEQPACKET
 * socket, the one dpdk-telemetry.py uses) and check that the JSON carries
 * the data plane's counters with the values the C API reports.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_eal.h>

#include "dp_common.h"

#define N_OPS 5000u

static int
tel_connect(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char buf[1024];
	int fd;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/dpdk_telemetry.v2",
		 rte_eal_get_runtime_dir());
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		fprintf(stderr, "connect %s: %s\n", addr.sun_path, strerror(errno));
		close(fd);
		return -1;
	}
	/* The server greets with its version and limits. */
	if (recv(fd, buf, sizeof(buf) - 1, 0) <= 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send @p cmd, receive the JSON reply into @p out. */
static int
tel_query(int fd, const char *cmd, char *out, size_t size)
{
	ssize_t n;

	if (send(fd, cmd, strlen(cmd), 0) < 0)
		return -1;
	n = recv(fd, out, size - 1, 0);
	if (n <= 0)
		return -1;
	out[n] = '\0';
	return 0;
}

/* Value of "key": N in @p json, or -1. */
static long long
json_u64(const char *json, const char *key)
{
	char pat[128];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	if (p == NULL)
		return -1;
	return strtoll(p + strlen(pat), NULL, 10);
}

static int
check_json(int fd, struct gntdp_dp *dp)
{
	static char json[16384];
	struct gntdp_dp_stats st;
	unsigned int lcore;

	CHECK(gntdp_dp_stats_get(dp, &st) == 0);
	CHECK(tel_query(fd, "/gntdp/stats", json, sizeof(json)) == 0);
	printf("/gntdp/stats -> %.300s...\n", json);
	CHECKF(json_u64(json, "ops") == (long long)st.ops, "ops %lld vs %" PRIu64,
	       json_u64(json, "ops"), st.ops);
	CHECK(st.ops == N_OPS);
	CHECK(json_u64(json, "ops_copy") == N_OPS);
	CHECK(json_u64(json, "GNTST_okay") == N_OPS - 1);
	CHECK(json_u64(json, "GNTST_bad_domain") == 1);
	CHECK(json_u64(json, "copy_bytes") == (long long)st.copy_bytes && st.copy_bytes > 0);
	CHECK(json_u64(json, "cache_hits") == (long long)st.cache_hits);
	CHECK(json_u64(json, "cache_misses") == (long long)st.cache_misses);
	CHECK(json_u64(json, "busy_polls") == (long long)st.busy_polls);
	CHECK(json_u64(json, "idle_polls") >= 0 && json_u64(json, "ring_full") >= 0);

	CHECK(gntdp_dp_worker_stats_get(dp, 0, &st, &lcore) == 0);
	CHECK(tel_query(fd, "/gntdp/lcores", json, sizeof(json)) == 0);
	printf("/gntdp/lcores -> %s\n", json);
	CHECK(strstr(json, "\"/gntdp/lcores\":[1]") != NULL);
	CHECK(tel_query(fd, "/gntdp/lcore,1", json, sizeof(json)) == 0);
	CHECK(json_u64(json, "lcore") == 1 && json_u64(json, "ops") == (long long)st.ops);
	CHECK(tel_query(fd, "/gntdp/queues", json, sizeof(json)) == 0);
	CHECK(strstr(json, "\"/gntdp/queues\":[0,1]") != NULL);
	CHECK(tel_query(fd, "/gntdp/queue,0", json, sizeof(json)) == 0);
	printf("/gntdp/queue,0 -> %s\n", json);
	CHECK(json_u64(json, "completed") == N_OPS - 1 && json_u64(json, "domid") == DOM_CLIENT);
	CHECK(tel_query(fd, "/gntdp/queue,1", json, sizeof(json)) == 0);
	CHECK(json_u64(json, "completed") == 1 && json_u64(json, "domid") == 77);
	CHECK(tel_query(fd, "/gntdp/conf", json, sizeof(json)) == 0);
	printf("/gntdp/conf -> %s\n", json);
	CHECK(json_u64(json, "hold_us") == GNTDP_DP_DEFAULT_HOLD_US && json_u64(json, "workers") == 1);
	/* The built-in queue poller of the one worker: id 0, busy once per busy iteration. */
	CHECK(tel_query(fd, "/gntdp/pollers", json, sizeof(json)) == 0);
	printf("/gntdp/pollers -> %s\n", json);
	CHECK(strstr(json, "\"/gntdp/pollers\":[0]") != NULL);
	{
		struct gntdp_dp_poller_info pi;

		CHECK(tel_query(fd, "/gntdp/poller,0", json, sizeof(json)) == 0);
		printf("/gntdp/poller,0 -> %s\n", json);
		CHECK(gntdp_dp_poller_info(dp, 0, &pi) == 0);
		CHECK(strstr(json, "\"name\":\"queues\"") != NULL && json_u64(json, "lcore") == 1);
		CHECK(json_u64(json, "busy") == (long long)pi.busy && pi.busy == st.busy_polls);
		CHECK(json_u64(json, "idle") >= 0);
		CHECK(tel_query(fd, "/gntdp/poller,1", json, sizeof(json)) == 0);
		CHECK(strstr(json, "busy") == NULL);
	}
	CHECK(tel_query(fd, "/", json, sizeof(json)) == 0);
	CHECK(strstr(json, "/gntdp/stats") != NULL && strstr(json, "/gntdp/queue") != NULL);
	CHECK(strstr(json, "/gntdp/pollers") != NULL);
	return 0;
}

static int
run(struct test_world *w, struct gntdp_dp *dp, struct gntdp_dp_queue *q,
    struct gntdp_dp_queue *q_bad)
{
	struct gntdp_dp_req r;
	struct gntdp_dp_cpl c[64];
	uint32_t i, got = 0;
	int fd, rc;

	CHECK(dp_test_grant(w->gt, DOM_GRANTER, 8, DOM_CLIENT, 8, false) == 0);
	CHECK(gntdp_dp_start(dp) == 0);
	for (i = 0; i < N_OPS - 1; i++) {
		dp_req_copy_to_gref(&r, i, 0, 0, DOM_GRANTER, 8, 0, 100);
		while (gntdp_dp_submit_burst(q, &r, 1) == 0)
			got += gntdp_dp_complete_burst(q, c, 64);
		got += gntdp_dp_complete_burst(q, c, 64);
	}
	while (got < N_OPS - 1) {
		unsigned int k = N_OPS - 1 - got < 64 ? N_OPS - 1 - got : 64;

		k = dp_drain(q, c, k, 5000);
		CHECK(k > 0);
		got += k;
	}
	/* A queue whose domain does not exist: one bad_domain completion. */
	dp_req_copy_to_gref(&r, 0, 0, 0, DOM_GRANTER, 8, 0, 100);
	CHECK(gntdp_dp_submit_burst(q_bad, &r, 1) == 1);
	CHECK(dp_drain(q_bad, c, 1, 5000) == 1);
	CHECK(c[0].status == GNTDP_GNTST_BAD_DOMAIN && c[0].rc == -ESRCH);
	gntdp_dp_stop(dp);

	fd = tel_connect();
	CHECK(fd >= 0);
	rc = check_json(fd, dp);
	close(fd);
	return rc;
}

int
main(int argc, char **argv)
{
	struct gntdp_dp *dp = NULL;
	struct gntdp_dp_queue *q, *q_bad;
	struct test_world w;
	int rc;

	rc = dp_test_eal("dp_telemetry", argc, argv);
	if (rc != 0)
		return rc;
	if (dp_test_world(&w) != 0)
		return dp_test_finish(NULL, &w, 1);
	if (gntdp_dp_create(w.gt, NULL, &dp) != 0 ||
	    gntdp_dp_queue_create(dp, DOM_CLIENT, &q) != 0 ||
	    gntdp_dp_queue_create(dp, 77, &q_bad) != 0)
		return dp_test_finish(dp, &w, 1);
	rc = run(&w, dp, q, q_bad);
	printf("%s\n", rc == 0 ? "PASS" : "FAIL");
	return dp_test_finish(dp, &w, rc);
}
