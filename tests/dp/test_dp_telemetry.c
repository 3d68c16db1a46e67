/* SPDX-License-Identifier: MIT */
/*
 * Telemetry: run some traffic through two hypercall rings (one of a
 * client, one of a domain that does not exist), then query the /gntdp/
 * commands over the telemetry socket (<runtime dir>/dpdk_telemetry.v2, a
 * unix SOCK_SEQPACKET socket, the one dpdk-telemetry.py uses) and check
 * that the JSON carries the data plane's counters with the values the C
 * API reports, and that those count the rings' work; no per-status key,
 * no /gntdp/queue(s) (the per-op queue is retired), /gntdp/lcore's
 * "pollers" counts the worker's ring pollers.
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

#define N_CALLS 500u
#define OPS 10u /* copies of LEN bytes per call */
#define LEN 100u
#define N_OPS (N_CALLS * OPS)

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

/* Ids of "/gntdp/pollers":[...] in @p json into ids[], at most @p max. Returns the count or -1. */
static int
json_ids(const char *json, const char *key, unsigned int *ids, int max)
{
	char pat[128];
	const char *p;
	int n = 0;

	snprintf(pat, sizeof(pat), "\"%s\":[", key);
	p = strstr(json, pat);
	if (p == NULL)
		return -1;
	p += strlen(pat);
	while (*p != ']') {
		char *end;
		unsigned long v = strtoul(p, &end, 10);

		if (end == p || n == max)
			return -1;
		ids[n++] = (unsigned int)v;
		p = *end == ',' ? end + 1 : end;
	}
	return n;
}

/* Every poller telemetry lists matches the C API; the two rings' pollers did what they should. */
static int
check_pollers(int fd, struct gntdp_dp *dp, char *json, size_t size)
{
	unsigned int ids[GNTDP_DP_MAX_POLLERS];
	uint64_t ring_busy[2] = {0, 0};
	int n, rings = 0;

	CHECK(tel_query(fd, "/gntdp/pollers", json, size) == 0);
	printf("/gntdp/pollers -> %s\n", json);
	n = json_ids(json, "/gntdp/pollers", ids, GNTDP_DP_MAX_POLLERS);
	CHECK(n >= 2);
	for (int i = 0; i < n; i++) {
		struct gntdp_dp_poller_info pi;
		char cmd[64], name[64];

		CHECK(gntdp_dp_poller_info(dp, ids[i], &pi) == 0);
		snprintf(cmd, sizeof(cmd), "/gntdp/poller,%u", ids[i]);
		CHECK(tel_query(fd, cmd, json, size) == 0);
		printf("%s -> %s\n", cmd, json);
		snprintf(name, sizeof(name), "\"name\":\"%s\"", pi.name);
		CHECK(strstr(json, name) != NULL && json_u64(json, "id") == ids[i]);
		CHECK(json_u64(json, "lcore") == 1 && json_u64(json, "worker") == 0);
		CHECK(json_u64(json, "busy") == (long long)pi.busy);
		CHECK(json_u64(json, "idle") == (long long)pi.idle);
		if (strcmp(pi.name, "hcall") == 0 && rings < 2)
			ring_busy[rings] = pi.busy;
		rings += strcmp(pi.name, "hcall") == 0;
	}
	/* Ring A took each of its calls in a poll of its own; the bad ring its one call. */
	CHECKF(rings == 2 && ((ring_busy[0] == N_CALLS && ring_busy[1] == 1) ||
			      (ring_busy[0] == 1 && ring_busy[1] == N_CALLS)),
	       "%d ring pollers, busy %llu and %llu", rings, (unsigned long long)ring_busy[0],
	       (unsigned long long)ring_busy[1]);
	/* An id past every poller: no poller there. */
	{
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "/gntdp/poller,%u", gntdp_dp_poller_slots(dp));
		CHECK(tel_query(fd, cmd, json, size) == 0);
		CHECK(strstr(json, "busy") == NULL);
	}
	return 0;
}

static int
check_json(int fd, struct gntdp_dp *dp, const struct gntdp_dp_hcall_info *ia,
	   const struct gntdp_dp_hcall_info *ib)
{
	static char json[16384];
	struct gntdp_dp_stats st;
	unsigned int lcore;

	CHECK(gntdp_dp_stats_get(dp, &st) == 0);
	CHECK(tel_query(fd, "/gntdp/stats", json, sizeof(json)) == 0);
	printf("/gntdp/stats -> %.300s...\n", json);
	/* Every key carries the C API's value. */
	CHECKF(json_u64(json, "ops") == (long long)st.ops, "ops %lld vs %" PRIu64,
	       json_u64(json, "ops"), st.ops);
	CHECK(json_u64(json, "ops_copy") == (long long)st.ops_by_cmd[GNTDP_GNTTABOP_COPY]);
	CHECK(json_u64(json, "call_errors") == (long long)st.call_errors);
	CHECK(json_u64(json, "batches") == (long long)st.batches);
	CHECK(json_u64(json, "copy_bytes") == (long long)st.copy_bytes);
	CHECK(st.copy_bytes == (uint64_t)N_OPS * LEN);
	CHECK(json_u64(json, "cache_hits") == (long long)st.cache_hits);
	CHECK(json_u64(json, "cache_misses") == (long long)st.cache_misses);
	CHECK(st.cache_hits + st.cache_misses >= N_OPS);
	CHECK(json_u64(json, "busy_polls") == (long long)st.busy_polls);
	/* One call at a time: each took exactly one busy iteration. */
	CHECKF(st.busy_polls == N_CALLS + 1, "busy_polls %" PRIu64, st.busy_polls);
	CHECK(json_u64(json, "idle_polls") == (long long)st.idle_polls);
	CHECK(json_u64(json, "ring_full") == (long long)st.ring_full);
	CHECK(json_u64(json, "idle_sleeps") == 0);
	/* The worker counts the rings' calls and ops (dataplane/hcall.c feeds these keys);
	 * ring B's one call was refused before any op ran. */
	CHECK(st.ops == ia->ops && st.ops_by_cmd[GNTDP_GNTTABOP_COPY] == st.ops);
	CHECK(json_u64(json, "ops") == (long long)st.ops);
	CHECK(json_u64(json, "ops_copy") == (long long)st.ops);
	CHECK(st.batches == N_CALLS + 1 && st.call_errors == 1);
	CHECK(json_u64(json, "batches") == (long long)st.batches);
	CHECK(json_u64(json, "call_errors") == 1);
	CHECK(strstr(json, "GNTST_") == NULL); /* statuses are the caller's, not counted */
	CHECK(ia->ops == N_OPS && ia->calls == N_CALLS && ia->errors == 0);
	CHECK(ib->calls == 1 && ib->errors == 1);

	CHECK(gntdp_dp_worker_stats_get(dp, 0, &st, &lcore) == 0);
	CHECK(tel_query(fd, "/gntdp/lcores", json, sizeof(json)) == 0);
	printf("/gntdp/lcores -> %s\n", json);
	CHECK(strstr(json, "\"/gntdp/lcores\":[1]") != NULL);
	CHECK(tel_query(fd, "/gntdp/lcore,1", json, sizeof(json)) == 0);
	CHECK(json_u64(json, "lcore") == 1 && json_u64(json, "worker") == 0);
	CHECK(json_u64(json, "ops") == (long long)st.ops);
	CHECK(json_u64(json, "copy_bytes") == (long long)st.copy_bytes &&
	      st.copy_bytes == (uint64_t)N_OPS * LEN);
	CHECK(json_u64(json, "busy_polls") == (long long)st.busy_polls);
	CHECK(json_u64(json, "pollers") == 2); /* the two rings' */
	CHECK(tel_query(fd, "/gntdp/conf", json, sizeof(json)) == 0);
	CHECK(strstr(json, "ring_size") == NULL && strstr(json, "\"burst\"") == NULL);
	printf("/gntdp/conf -> %s\n", json);
	CHECK(json_u64(json, "hold_us") == GNTDP_DP_DEFAULT_HOLD_US && json_u64(json, "workers") == 1);
	CHECK(check_pollers(fd, dp, json, sizeof(json)) == 0);
	CHECK(tel_query(fd, "/", json, sizeof(json)) == 0);
	CHECK(strstr(json, "/gntdp/stats") != NULL && strstr(json, "/gntdp/lcore") != NULL);
	CHECK(strstr(json, "/gntdp/pollers") != NULL && strstr(json, "/gntdp/conf") != NULL);
	CHECK(strstr(json, "/gntdp/queue") == NULL);
	return 0;
}

static int
run(struct test_world *w, struct gntdp_dp *dp, struct dp_ring *q, struct gntdp_dp_hcall *q_bad)
{
	struct gntdp_gnttab_copy ops[OPS];
	struct gntdp_dp_hcall_info ia, ib;
	struct gntdp_hcall_sqe s;
	struct gntdp_hcall_cqe c;
	uint64_t end;
	int fd, rc;

	CHECK(dp_test_grant(w->gt, DOM_GRANTER, 8, DOM_CLIENT, 8, false) == 0);
	CHECK(gntdp_dp_start(dp) == 0);
	for (uint32_t i = 0; i < N_CALLS; i++) {
		int32_t crc = 1;

		for (unsigned int k = 0; k < OPS; k++)
			dp_copy_to_gref(&ops[k], 0, (uint16_t)(k * LEN), DOM_GRANTER, 8,
					(uint16_t)(k * LEN), LEN);
		CHECK(dp_ring_call(q, GNTDP_GNTTABOP_COPY, ops, OPS, i, &crc) == 0 && crc == 0);
		for (unsigned int k = 0; k < OPS; k++)
			CHECK(ops[k].status == GNTDP_GNTST_OKAY);
	}
	/* A ring whose domain does not exist: its one call fails whole, -ESRCH. */
	memset(&s, 0, sizeof(s));
	s.user_data = 99;
	s.cmd = GNTDP_GNTTABOP_COPY;
	s.count = 1;
	CHECK(gntdp_dp_hcall_submit_burst(q_bad, &s, 1) == 1);
	end = dp_now_ms() + 5000;
	while (gntdp_dp_hcall_reap_burst(q_bad, &c, 1) == 0)
		CHECK(dp_now_ms() < end);
	CHECK(c.user_data == 99 && c.rc == -ESRCH);
	gntdp_dp_stop(dp);
	CHECK(gntdp_dp_hcall_info(q->r, &ia) == 0 && gntdp_dp_hcall_info(q_bad, &ib) == 0);

	fd = tel_connect();
	CHECK(fd >= 0);
	rc = check_json(fd, dp, &ia, &ib);
	close(fd);
	return rc;
}

int
main(int argc, char **argv)
{
	struct gntdp_dp *dp = NULL;
	struct gntdp_dp_hcall *q_bad = NULL;
	struct gntdp_dp_hcall_conf hc;
	struct dp_ring_conf rc_conf;
	struct dp_ring q;
	struct test_world w;
	int rc;

	rc = dp_test_eal("dp_telemetry", argc, argv);
	if (rc != 0)
		return rc;
	if (dp_test_world(&w) != 0)
		return dp_test_finish(NULL, &w, 1);
	dp_ring_conf_init(&rc_conf, DOM_CLIENT);
	gntdp_dp_hcall_conf_init(&hc);
	hc.domid = 77;
	if (gntdp_dp_create(w.gt, NULL, &dp) != 0 || dp_ring_create(dp, w.gt, &rc_conf, &q) != 0 ||
	    gntdp_dp_hcall_create(dp, &hc, &q_bad) != 0)
		return dp_test_finish(dp, &w, 1);
	rc = run(&w, dp, &q, q_bad);
	if (dp_ring_destroy(dp, &q) != 0 || gntdp_dp_hcall_destroy(dp, q_bad) != 0)
		rc = 1;
	printf("%s\n", rc == 0 ? "PASS" : "FAIL");
	return dp_test_finish(dp, &w, rc);
}
