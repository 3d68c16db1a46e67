/* SPDX-License-Identifier: MIT */
/*
 * The hypercall ring on a worker (gntdp/hcall.h):
 *  - round trip: 20,000 hypercalls of 32 64-byte copies through 16-entry
 *    rings (indices wrap), op arrays in the client's guest memory; every
 *    completion once and in order, every op's status written back into the
 *    array, every byte copied; mixed in, a call whose array lies outside the
 *    client's RAM (-EFAULT), a submission with reserved bits (-EINVAL), a
 *    command the core does not run (13 or 0xff: -ENOSYS, nothing written),
 *    query_size calls between the copy calls (whole struct written back) and
 *    a setup_table whose frame_list points into this process (bad_virt_addr,
 *    the process variable intact); the worker's copy_bytes counts every
 *    copied byte once (this part replaces test_dp_ring's queue round trip);
 *  - a hostile client rewriting its op arrays while they are in flight: the
 *    worker survives (ASan flavour), statuses stay in the GNTST set, the
 *    granter's frames outside the grants stay intact;
 *  - corrupt indexes: a ring whose SQ tail, or CQ head, no client could have
 *    written is disabled with its reason in the header, in the info and in
 *    one log line; another ring on the same worker keeps working;
 *  - eventfd wake-up only when asked for;
 *  - preemption: a 4096-op call on one ring runs 64 ops a poll while another
 *    ring on the worker is served, and a destroy in mid-call completes it
 *    with -ECANCELED;
 *  - the rte_ring implementation's round trip.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_log.h>

#include <gntdp/hcall.h>

#include "dp_common.h"

#define RING 16u
#define OPS 32u
#define SLOTS 48u     /* op arrays in flight at most: SQ + CQ + the worker's burst */
#define ARR_GFN 20u   /* client gfns 20.. hold the op arrays, 3 per frame */
#define PER_FRAME 3u
#define NB_REFS 8u
#define FIRST_REF 8u
#define GA(gfn, off) (((uint64_t)(gfn) << 12) | (uint64_t)(off))

/* Each client gets its own granter refs. */
static uint32_t
ref_base(gntdp_domid_t dom)
{
	return dom == DOM_CLIENT ? FIRST_REF : FIRST_REF + 2 * NB_REFS;
}

static uint64_t
slot_ga(unsigned int slot)
{
	return GA(ARR_GFN + slot / PER_FRAME,
		  (slot % PER_FRAME) * OPS * sizeof(struct gntdp_gnttab_copy));
}

static struct gntdp_gnttab_copy *
slot_ops(struct test_world *w, gntdp_domid_t dom, unsigned int slot)
{
	uint64_t ga = slot_ga(slot);
	uint8_t *f = gntdp_domain_frame(w->gt, dom, ga >> 12);

	return (struct gntdp_gnttab_copy *)(void *)(f + (ga & 4095));
}

/* Call @i: 32 copies of 64 bytes from client frame i % 8 to the granter's ref 8 + i % 8. */
static void
fill_call(struct test_world *w, gntdp_domid_t dom, unsigned int slot, uint32_t i)
{
	struct gntdp_gnttab_copy *ops = slot_ops(w, dom, slot);
	uint32_t k = i % NB_REFS;

	for (unsigned int j = 0; j < OPS; j++) {
		uint16_t off = (uint16_t)(((i / NB_REFS) * 64u + j * 64u * 7u) % 4096u);

		memset(&ops[j], 0, sizeof(ops[j]));
		ops[j].source.u.gmfn = k;
		ops[j].source.domid = GNTDP_DOMID_SELF;
		ops[j].source.offset = off;
		ops[j].dest.u.ref = ref_base(dom) + k;
		ops[j].dest.domid = DOM_GRANTER;
		ops[j].dest.offset = off;
		ops[j].len = 64;
		ops[j].flags = GNTDP_GNTCOPY_DEST_GREF;
		ops[j].status = 0x7fff;
	}
}

static int
grant_frames(struct test_world *w, gntdp_domid_t client)
{
	for (uint32_t k = 0; k < NB_REFS; k++) {
		uint8_t *f = gntdp_domain_frame(w->gt, client, k);

		CHECK(f != NULL);
		for (unsigned int i = 0; i < 4096; i++)
			f[i] = (uint8_t)(k * 31u + i);
		CHECK(dp_test_grant(w->gt, DOM_GRANTER, ref_base(client) + k, client, k, false) == 0);
	}
	return 0;
}

enum kind { K_COPY, K_FAULT, K_RSVD, K_SETUP, K_NOSYS, K_QUERY };

static enum kind
classify(uint32_t i)
{
	if (i % 1000u == 333u)
		return K_FAULT;
	if (i % 1000u == 666u)
		return K_RSVD;
	if (i % 5000u == 999u)
		return K_SETUP;
	if (i % 1000u == 999u)
		return K_NOSYS;
	if (i % 17u == 5u)
		return K_QUERY;
	return K_COPY;
}

static volatile uint64_t host_var[4] = {11, 22, 33, 44};

static void
make_sqe(struct test_world *w, struct gntdp_hcall_sqe *s, uint32_t i)
{
	unsigned int slot = i % SLOTS;

	memset(s, 0, sizeof(*s));
	s->user_data = i;
	s->cmd = GNTDP_GNTTABOP_COPY;
	s->count = OPS;
	s->gaddr = slot_ga(slot);
	fill_call(w, DOM_CLIENT, slot, i);
	switch (classify(i)) {
	case K_FAULT:
		s->gaddr = GA(WORLD_FRAMES + 10, 0); /* in the physmap, not RAM */
		break;
	case K_RSVD:
		s->rsvd = 1;
		break;
	case K_SETUP: {
		struct gntdp_gnttab_setup_table *st = (void *)slot_ops(w, DOM_CLIENT, slot);

		memset(st, 0, sizeof(*st));
		st->dom = GNTDP_DOMID_SELF;
		st->nr_frames = 1;
		st->status = 0x7fff;
		st->frame_list = (gntdp_xen_pfn_t *)(uintptr_t)host_var;
		s->cmd = GNTDP_GNTTABOP_SETUP_TABLE;
		s->count = 1;
		break;
	}
	case K_NOSYS:
		/* 13, or every bit of a byte: a command the core does not run. */
		s->cmd = (i / 1000u) % 2u ? 0xffu : GNTDP_HCALL_NB_CMDS;
		break;
	case K_QUERY: {
		/* A count-1 command between copy calls; its whole struct is written back. */
		struct gntdp_gnttab_query_size *qs = (void *)slot_ops(w, DOM_CLIENT, slot);

		memset(qs, 0, sizeof(*qs));
		qs->dom = GNTDP_DOMID_SELF;
		qs->status = 0x7fff;
		s->cmd = GNTDP_GNTTABOP_QUERY_SIZE;
		s->count = 1;
		break;
	}
	default:
		break;
	}
}

static int
check_cqe(struct test_world *w, const struct gntdp_hcall_cqe *c, uint32_t i)
{
	struct gntdp_gnttab_copy *ops = slot_ops(w, DOM_CLIENT, i % SLOTS);

	CHECKF(c->user_data == i, "completion %u has user_data %llu", i,
	       (unsigned long long)c->user_data);
	switch (classify(i)) {
	case K_FAULT:
		CHECKF(c->rc == -EFAULT, "call %u: rc %d", i, c->rc);
		break;
	case K_RSVD:
		CHECKF(c->rc == -EINVAL && ops[0].status == 0x7fff, "call %u: rc %d", i, c->rc);
		break;
	case K_SETUP:
		CHECKF(c->rc == 0 && ((struct gntdp_gnttab_setup_table *)(void *)ops)->status ==
					     GNTDP_GNTST_BAD_VIRT_ADDR,
		       "setup %u: rc %d", i, c->rc);
		CHECK(host_var[0] == 11 && host_var[3] == 44);
		break;
	case K_NOSYS:
		CHECKF(c->rc == -ENOSYS && ops[0].status == 0x7fff, "call %u: rc %d", i, c->rc);
		break;
	case K_QUERY: {
		const struct gntdp_gnttab_query_size *qs = (const void *)ops;

		CHECKF(c->rc == 0 && qs->status == GNTDP_GNTST_OKAY && qs->nr_frames >= 1 &&
			       qs->max_nr_frames >= qs->nr_frames,
		       "query_size %u: rc %d status %d", i, c->rc, qs->status);
		break;
	}
	case K_COPY:
		CHECKF(c->rc == 0, "call %u: rc %d", i, c->rc);
		for (unsigned int j = 0; j < OPS; j++)
			CHECKF(ops[j].status == GNTDP_GNTST_OKAY, "call %u op %u: status %d", i, j,
			       ops[j].status);
		break;
	}
	return 0;
}

/*
 * Drive @p r as its client with verified calls: nb_calls of them, or (with
 * @p until) until *until is set; then drain. *done_out: completions checked.
 */
static int
pump(struct test_world *w, struct gntdp_dp_hcall *r, uint32_t nb_calls, _Atomic bool *until,
     uint32_t *done_out)
{
	struct gntdp_hcall_sqe s[8];
	struct gntdp_hcall_cqe c[64];
	uint32_t sent = 0, done = 0;
	uint64_t end = dp_now_ms() + 60000;

	while ((done < nb_calls || sent != done) && dp_now_ms() < end) {
		/* Never more in flight than there are array slots. */
		unsigned int n = 1u + sent % 7u, k;

		if (until != NULL && atomic_load(until))
			nb_calls = sent;
		if (n > nb_calls - sent)
			n = nb_calls - sent;
		if (sent + n - done > SLOTS)
			n = SLOTS - (sent - done);
		for (k = 0; k < n; k++)
			make_sqe(w, &s[k], sent + k);
		sent += gntdp_dp_hcall_submit_burst(r, s, n);
		n = gntdp_dp_hcall_reap_burst(r, c, 64);
		for (k = 0; k < n; k++)
			CHECK(check_cqe(w, &c[k], done + k) == 0);
		done += n;
	}
	*done_out = done;
	CHECKF(done == nb_calls, "only %u of %u completions", done, nb_calls);
	return 0;
}

static int
test_round_trip(struct test_world *w, struct gntdp_dp *dp, struct gntdp_dp_hcall *r,
		uint32_t nb_calls)
{
	struct gntdp_hcall_cqe c[64];
	struct gntdp_dp_hcall_info info;
	struct gntdp_dp_stats st0, st;
	uint32_t done = 0, faults = 0, errors = 0, copies = 0, singles = 0;
	int rc;

	CHECK(gntdp_dp_stats_get(dp, &st0) == 0);
	CHECK(gntdp_dp_start(dp) == 0);
	rc = pump(w, r, nb_calls, NULL, &done);
	gntdp_dp_stop(dp);
	CHECK(rc == 0);
	CHECK(gntdp_dp_hcall_reap_burst(r, c, 64) == 0);
	for (uint32_t k = 0; k < NB_REFS; k++) {
		const uint8_t *f = gntdp_domain_frame(w->gt, DOM_GRANTER, k);

		for (unsigned int i = 0; i < 4096; i++)
			CHECKF(f[i] == (uint8_t)(k * 31u + i), "frame %u byte %u", k, i);
	}
	for (uint32_t i = 0; i < nb_calls; i++) {
		faults += classify(i) == K_FAULT;
		errors += classify(i) == K_RSVD || classify(i) == K_NOSYS;
		copies += classify(i) == K_COPY;
		singles += classify(i) == K_SETUP || classify(i) == K_QUERY;
	}
	CHECK(gntdp_dp_hcall_info(r, &info) == 0);
	CHECKF(info.calls == nb_calls && info.faults == faults && info.errors == errors,
	       "calls %llu faults %llu errors %llu", (unsigned long long)info.calls,
	       (unsigned long long)info.faults, (unsigned long long)info.errors);
	CHECK(!info.disabled);
	/* The worker's counters see the ring's work: the bytes of every copy call, once. */
	CHECK(gntdp_dp_stats_get(dp, &st) == 0);
	CHECKF(st.copy_bytes - st0.copy_bytes == (uint64_t)copies * OPS * 64u, "copy_bytes %llu",
	       (unsigned long long)(st.copy_bytes - st0.copy_bytes));
	CHECK(st.busy_polls > st0.busy_polls);
	/* The worker counts the ring's calls and the ops that ran (dataplane/hcall.c feeds
	 * them): every op of a copy call, the one of each setup_table and query_size call,
	 * none of a refused call nor of one whose array starts outside RAM. */
	CHECK(st.batches - st0.batches == info.calls);
	CHECK(st.call_errors - st0.call_errors == info.faults + info.errors);
	CHECKF(st.ops - st0.ops == (uint64_t)copies * OPS + singles, "ops %llu",
	       (unsigned long long)(st.ops - st0.ops));
	CHECK(st.ops_by_cmd[GNTDP_GNTTABOP_COPY] - st0.ops_by_cmd[GNTDP_GNTTABOP_COPY] ==
	      (uint64_t)copies * OPS);
	printf("round trip: %u calls x %u ops through %u-entry rings (%llu cq_full)\n", nb_calls,
	       OPS, RING, (unsigned long long)info.cq_full);
	return 0;
}

/* ---- hostile client --------------------------------------------------------------- */

static int
test_hostile_rewrites(struct test_world *w, struct gntdp_dp *dp, struct gntdp_dp_hcall *r)
{
	struct gntdp_hcall_sqe s;
	struct gntdp_hcall_cqe c;
	uint64_t rnd = 88172645463325252ull;
	uint8_t *spare = gntdp_domain_frame(w->gt, DOM_GRANTER, 40); /* granted to nobody */
	uint32_t done = 0;

	CHECK(spare != NULL);
	memset(spare, 0x3c, 4096);
	CHECK(gntdp_dp_start(dp) == 0);
	for (uint32_t i = 0; i < 2000; i++) {
		struct gntdp_gnttab_copy *ops = slot_ops(w, DOM_CLIENT, 0);
		uint64_t end = dp_now_ms() + 10000;

		memset(&s, 0, sizeof(s));
		s.user_data = i;
		s.cmd = GNTDP_GNTTABOP_COPY;
		s.count = OPS;
		s.gaddr = slot_ga(0);
		fill_call(w, DOM_CLIENT, 0, i);
		CHECK(gntdp_dp_hcall_submit_burst(r, &s, 1) == 1);
		/* Scribble over the array until the completion is there. */
		while (gntdp_dp_hcall_reap_burst(r, &c, 1) == 0) {
			unsigned int j, b;

			CHECK(dp_now_ms() < end);
			rnd ^= rnd << 13;
			rnd ^= rnd >> 7;
			rnd ^= rnd << 17;
			j = (unsigned int)(rnd % OPS);
			b = (unsigned int)((rnd >> 8) % sizeof(ops[0]));
			((volatile uint8_t *)&ops[j])[b] = (uint8_t)(rnd >> 24);
		}
		/* Whatever was read, the array was in the client's RAM: the call itself succeeded. */
		CHECKF(c.user_data == i && c.rc == 0, "call %u: rc %d", i, c.rc);
		done++;
	}
	gntdp_dp_stop(dp);
	for (unsigned int i = 0; i < 4096; i++)
		CHECKF(spare[i] == 0x3c, "ungranted granter frame changed at %u", i);
	printf("hostile: %u calls rewritten in flight, worker fine\n", done);
	return 0;
}

/* ---- corrupt indexes -------------------------------------------------------------- */

static char *log_buf;
static size_t log_len;

static int
wait_disabled(struct gntdp_dp_hcall *r, uint32_t reason)
{
	struct gntdp_dp_hcall_info info;
	uint64_t end = dp_now_ms() + 10000;

	do {
		CHECK(gntdp_dp_hcall_info(r, &info) == 0);
	} while (!info.disabled && dp_now_ms() < end);
	CHECKF(info.disabled && info.reason == reason, "disabled %d reason %u", info.disabled,
	       info.reason);
	return 0;
}

/* One good copy call on @r (client @dom) completes with rc 0. */
static int
one_call(struct test_world *w, struct gntdp_dp_hcall *r, gntdp_domid_t dom, uint32_t i)
{
	struct gntdp_hcall_sqe s = {.user_data = i, .cmd = GNTDP_GNTTABOP_COPY, .count = OPS};
	struct gntdp_hcall_cqe c;
	uint64_t end = dp_now_ms() + 10000;

	s.gaddr = slot_ga(1);
	fill_call(w, dom, 1, i);
	CHECK(gntdp_dp_hcall_submit_burst(r, &s, 1) == 1);
	while (gntdp_dp_hcall_reap_burst(r, &c, 1) == 0)
		CHECK(dp_now_ms() < end);
	CHECKF(c.user_data == i && c.rc == 0, "call %u rc %d", i, c.rc);
	CHECK(slot_ops(w, dom, 1)[OPS - 1].status == GNTDP_GNTST_OKAY);
	return 0;
}

static int
test_corrupt_indexes(struct test_world *w, struct gntdp_dp *dp, struct gntdp_dp_hcall *ra,
		     struct gntdp_dp_hcall *rb, struct gntdp_dp_hcall *rc)
{
	struct gntdp_hcall_ring_hdr *ha = gntdp_dp_hcall_mem(ra, NULL);
	struct gntdp_hcall_ring_hdr *hc = gntdp_dp_hcall_mem(rc, NULL);
	struct gntdp_hcall_client cl;
	struct gntdp_hcall_sqe s[RING];
	uint32_t why = 0;
	uint64_t end;
	size_t sz;

	CHECK(grant_frames(w, DOM_CLIENT2) == 0);
	CHECK(gntdp_dp_start(dp) == 0);
	CHECK(one_call(w, ra, DOM_CLIENT, 1) == 0);
	CHECK(one_call(w, rb, DOM_CLIENT2, 2) == 0);
	/* Ring A: a tail 1000 entries ahead of the head. */
	__atomic_store_n(&ha->sq_tail, ha->sq_head + 1000u, __ATOMIC_RELEASE);
	CHECK(wait_disabled(ra, GNTDP_HCALL_REASON_SQ_INDEX) == 0);
	CHECK(__atomic_load_n(&ha->state, __ATOMIC_ACQUIRE) == GNTDP_HCALL_RING_DISABLED);
	CHECK(__atomic_load_n(&ha->reason, __ATOMIC_RELAXED) == GNTDP_HCALL_REASON_SQ_INDEX);
	CHECK(gntdp_dp_hcall_mem(ra, &sz) == ha);
	CHECK(gntdp_hcall_client_init(&cl, ha, sz) == 0);
	CHECK(gntdp_hcall_client_disabled(&cl, &why) && why == GNTDP_HCALL_REASON_SQ_INDEX);
	CHECK(gntdp_dp_hcall_submit_burst(ra, s, 1) == 0);
	/* Ring C: a head past the tail; found once the CQ looks full and the worker re-reads it. */
	__atomic_store_n(&hc->cq_head, 12345u, __ATOMIC_RELEASE);
	memset(s, 0, sizeof(s));
	for (unsigned int i = 0; i < RING; i++) {
		s[i].user_data = i;
		s[i].cmd = GNTDP_GNTTABOP_COPY; /* count 0: nothing to read */
	}
	CHECK(gntdp_dp_hcall_submit_burst(rc, s, RING) == RING);
	end = dp_now_ms() + 10000;
	while (__atomic_load_n(&hc->sq_head, __ATOMIC_ACQUIRE) != RING)
		CHECK(dp_now_ms() < end);
	/* The CQ holds RING unreaped completions now; the next call makes the worker look. */
	CHECK(gntdp_dp_hcall_submit_burst(rc, s, 1) == 1);
	CHECK(wait_disabled(rc, GNTDP_HCALL_REASON_CQ_INDEX) == 0);
	/* B, on the same worker, is unaffected. */
	for (uint32_t i = 0; i < 100; i++)
		CHECK(one_call(w, rb, DOM_CLIENT2, 100 + i) == 0);
	gntdp_dp_stop(dp);
	fflush(rte_log_get_stream());
	CHECKF(log_buf != NULL && strstr(log_buf, "d1 on worker 0 disabled: SQ tail out of range"),
	       "log: %s", log_buf != NULL ? log_buf : "(none)");
	CHECK(strstr(log_buf, "CQ head out of range") != NULL);
	printf("corrupt indexes: rings disabled (SQ tail, CQ head), the third served 100 calls\n");
	return 0;
}

/* ---- wake-up ------------------------------------------------------------------------ */

static int
test_wakeup(struct test_world *w, struct gntdp_dp *dp, struct gntdp_dp_hcall *r, int efd)
{
	struct gntdp_hcall_ring_hdr *h = gntdp_dp_hcall_mem(r, NULL);
	struct gntdp_dp_hcall_info info;
	struct pollfd pfd;
	uint64_t v = 0;
	struct gntdp_hcall_sqe s = {.user_data = 7, .cmd = GNTDP_GNTTABOP_COPY, .count = OPS};
	struct gntdp_hcall_cqe c;
	uint64_t end;

	s.gaddr = slot_ga(2);
	fill_call(w, DOM_CLIENT, 2, 7);
	CHECK(gntdp_dp_start(dp) == 0);
	/* Not asked: no signal. */
	CHECK(gntdp_dp_hcall_submit_burst(r, &s, 1) == 1);
	end = dp_now_ms() + 10000;
	while (gntdp_dp_hcall_reap_burst(r, &c, 1) == 0)
		CHECK(dp_now_ms() < end);
	CHECK(gntdp_dp_hcall_info(r, &info) == 0 && info.wakeups == 0);
	gntdp_dp_stop(dp);
	/* Asked before the completion exists: exactly one signal, and the request is consumed. */
	__atomic_store_n(&h->wakeup, 1u, __ATOMIC_SEQ_CST);
	s.user_data = 8;
	CHECK(gntdp_dp_hcall_submit_burst(r, &s, 1) == 1);
	CHECK(gntdp_dp_start(dp) == 0);
	pfd.fd = efd;
	pfd.events = POLLIN;
	CHECK(poll(&pfd, 1, 10000) == 1);
	CHECK(read(efd, &v, sizeof(v)) == sizeof(v) && v == 1);
	CHECK(gntdp_dp_hcall_reap_burst(r, &c, 1) == 1 && c.user_data == 8);
	CHECK(__atomic_load_n(&h->wakeup, __ATOMIC_ACQUIRE) == 0);
	CHECK(gntdp_dp_hcall_info(r, &info) == 0 && info.wakeups == 1);
	/* The client's wait loop: sleep until completions are there. */
	for (unsigned int i = 0; i < 20; i++) {
		int rc = 0;

		s.user_data = 100 + i;
		CHECK(gntdp_dp_hcall_submit_burst(r, &s, 1) == 1);
		end = dp_now_ms() + 10000;
		while (gntdp_dp_hcall_reap_burst(r, &c, 1) == 0) {
			rc = gntdp_dp_hcall_wait(r, 1000);
			CHECKF(rc >= 0 && dp_now_ms() < end, "wait rc %d", rc);
		}
		CHECK(c.user_data == 100 + i && c.rc == 0);
	}
	gntdp_dp_stop(dp);
	CHECK(gntdp_dp_hcall_info(r, &info) == 0);
	printf("wake-up: %llu eventfd signals for 20 waits\n", (unsigned long long)info.wakeups);
	return 0;
}

static int
make_ring(struct gntdp_dp *dp, gntdp_domid_t dom, enum gntdp_dp_hcall_impl impl, int efd,
	  struct gntdp_dp_hcall **out)
{
	struct gntdp_dp_hcall_conf hc;

	gntdp_dp_hcall_conf_init(&hc);
	hc.domid = dom;
	hc.sq_entries = RING;
	hc.cq_entries = RING;
	hc.burst = 8;
	hc.impl = impl;
	hc.eventfd = efd;
	return gntdp_dp_hcall_create(dp, &hc, out);
}

/* ---- live create / destroy ---------------------------------------------------------- */

#define LIVE_ROUNDS 200u
#define LIVE_CALLS 8u

struct live {
	struct test_world *w;
	struct gntdp_dp *dp;
	_Atomic bool done;
	int rc;
	unsigned int taken_hist[RING + 1]; /* in-flight destroys: calls taken before the detach */
};

/* A ring B of DOM_CLIENT2 in a fresh anonymous mapping that goes right after destroy. */
static int
live_ring(struct live *lv, void **mem, size_t *size, struct gntdp_dp_hcall **out)
{
	struct gntdp_dp_hcall_conf hc;
	int rc;

	*size = gntdp_hcall_ring_mem_size(RING, RING);
	*mem = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(*mem != MAP_FAILED);
	gntdp_dp_hcall_conf_init(&hc);
	hc.domid = DOM_CLIENT2;
	hc.sq_entries = RING;
	hc.cq_entries = RING;
	hc.burst = 8;
	hc.mem = *mem;
	hc.mem_size = *size;
	rc = gntdp_dp_hcall_create(lv->dp, &hc, out);
	CHECKF(rc == 0, "live create: %d", rc);
	return 0;
}

static void
b_sqe(struct live *lv, struct gntdp_hcall_sqe *s, uint32_t i)
{
	memset(s, 0, sizeof(*s));
	s->user_data = i;
	s->cmd = GNTDP_GNTTABOP_COPY;
	s->count = OPS;
	s->gaddr = slot_ga(i % SLOTS);
	fill_call(lv->w, DOM_CLIENT2, i % SLOTS, i);
}

/* Verified traffic on B while it is attached. */
static int
live_traffic(struct live *lv, struct gntdp_dp_hcall *b, uint32_t round)
{
	struct gntdp_hcall_sqe s[LIVE_CALLS];
	struct gntdp_hcall_cqe c[LIVE_CALLS];
	uint32_t got = 0;
	uint64_t end = dp_now_ms() + 20000;

	for (uint32_t k = 0; k < LIVE_CALLS; k++)
		b_sqe(lv, &s[k], k);
	CHECK(gntdp_dp_hcall_submit_burst(b, s, LIVE_CALLS) == LIVE_CALLS);
	while (got < LIVE_CALLS) {
		CHECKF(dp_now_ms() < end, "round %u: %u of %u completions", round, got, LIVE_CALLS);
		got += gntdp_dp_hcall_reap_burst(b, c + got, LIVE_CALLS - got);
	}
	for (uint32_t k = 0; k < LIVE_CALLS; k++) {
		const struct gntdp_gnttab_copy *ops = slot_ops(lv->w, DOM_CLIENT2, k);

		CHECKF(c[k].user_data == k && c[k].rc == 0, "round %u call %u rc %d", round, k,
		       c[k].rc);
		for (unsigned int j = 0; j < OPS; j++)
			CHECK(ops[j].status == GNTDP_GNTST_OKAY);
	}
	return 0;
}

/*
 * Destroy with RING calls submitted and none reaped: every call the worker
 * took (sq_head) has its completion in the CQ, in order, its ops done; the
 * others were never run (their statuses are still the sentinel).
 */
static int
live_inflight(struct live *lv, struct gntdp_dp_hcall *b, void *mem, size_t size)
{
	struct gntdp_hcall_sqe s[RING];
	struct gntdp_hcall_cqe c[RING];
	struct gntdp_hcall_ring_hdr *h = mem;
	struct gntdp_hcall_client cl;
	uint32_t taken;

	for (uint32_t k = 0; k < RING; k++)
		b_sqe(lv, &s[k], k);
	CHECK(gntdp_dp_hcall_submit_burst(b, s, RING) == RING);
	CHECK(gntdp_dp_hcall_destroy(lv->dp, b) == 0);
	/* The region is ours again: nothing may change in it from now on. The indices
	 * start at LIVE_CALLS (live_traffic's calls, all reaped). */
	taken = __atomic_load_n(&h->sq_head, __ATOMIC_ACQUIRE) - LIVE_CALLS;
	CHECKF(taken <= RING && __atomic_load_n(&h->cq_tail, __ATOMIC_ACQUIRE) == LIVE_CALLS + taken,
	       "sq_head %u cq_tail %u", h->sq_head, h->cq_tail);
	/* A fresh client view of the region (its CQ side is all that is read). */
	CHECK(gntdp_hcall_client_init(&cl, mem, size) == 0);
	CHECK(gntdp_hcall_client_reap(&cl, c, RING) == taken);
	for (uint32_t k = 0; k < RING; k++) {
		const struct gntdp_gnttab_copy *ops = slot_ops(lv->w, DOM_CLIENT2, k);

		if (k < taken) {
			CHECK(c[k].user_data == k && c[k].rc == 0);
			for (unsigned int j = 0; j < OPS; j++)
				CHECK(ops[j].status == GNTDP_GNTST_OKAY);
		} else {
			for (unsigned int j = 0; j < OPS; j++)
				CHECKF(ops[j].status == 0x7fff, "untaken call %u op %u ran", k, j);
		}
	}
	CHECK(h->sq_head == LIVE_CALLS + taken && h->cq_tail == LIVE_CALLS + taken);
	lv->taken_hist[taken]++;
	return 0;
}

static int
live_rounds(struct live *lv)
{
	for (uint32_t round = 0; round < LIVE_ROUNDS; round++) {
		struct gntdp_dp_hcall *b;
		size_t size;
		void *mem;

		CHECK(live_ring(lv, &mem, &size, &b) == 0);
		CHECK(live_traffic(lv, b, round) == 0);
		if (round % 4 == 3) {
			CHECK(live_inflight(lv, b, mem, size) == 0);
		} else {
			CHECK(gntdp_dp_hcall_destroy(lv->dp, b) == 0);
		}
		/* At once: a worker that still touched the ring would fault here. */
		CHECK(munmap(mem, size) == 0);
	}
	return 0;
}

/* The control thread: not an EAL lcore, as gntdpd's. */
static void *
live_thread(void *arg)
{
	struct live *lv = arg;

	lv->rc = live_rounds(lv);
	atomic_store(&lv->done, true);
	return NULL;
}

static int
test_live(struct test_world *w, struct gntdp_dp *dp, struct gntdp_dp_hcall *a)
{
	static struct live lv;
	struct gntdp_dp_hcall_info ia, ib;
	struct gntdp_dp_hcall *b;
	pthread_t th;
	uint32_t done = 0;
	size_t size;
	void *mem;
	int rc;

	lv.w = w;
	lv.dp = dp;
	CHECK(gntdp_dp_start(dp) == 0);
	CHECK(pthread_create(&th, NULL, live_thread, &lv) == 0);
	/* Ring A is served, and verified, all along. */
	rc = pump(w, a, UINT32_MAX, &lv.done, &done);
	CHECK(pthread_join(th, NULL) == 0);
	CHECK(rc == 0 && lv.rc == 0);
	CHECK(gntdp_dp_hcall_info(a, &ia) == 0 && ia.calls == done && !ia.disabled);
	/* Stopped: create and destroy apply directly; running again: served again. */
	gntdp_dp_stop(dp);
	CHECK(live_ring(&lv, &mem, &size, &b) == 0);
	CHECK(gntdp_dp_start(dp) == 0);
	CHECK(live_traffic(&lv, b, LIVE_ROUNDS) == 0);
	gntdp_dp_stop(dp);
	CHECK(gntdp_dp_hcall_info(b, &ib) == 0 && ib.calls == LIVE_CALLS);
	CHECK(gntdp_dp_hcall_destroy(dp, b) == 0);
	CHECK(munmap(mem, size) == 0);
	printf("live: %u rings created, used and destroyed while ring A served %u verified calls;"
	       " in-flight destroys took", LIVE_ROUNDS, done);
	for (unsigned int t = 0; t <= RING; t++) {
		if (lv.taken_hist[t] != 0)
			printf(" %u calls x%u", t, lv.taken_hist[t]);
	}
	printf("\n");
	return 0;
}

/* ---- preemption: one huge call does not hold the worker ----------------------------- */

#define BIG_GFN 24u  /* DOM_CLIENT2 gfns 24..63 hold the big call's array */
#define BIG_OPS 4096u /* 40 frames of copies */

/* A call of BIG_OPS copies of 64 bytes inside DOM_CLIENT2's own frames 0 -> 1. */
static void
big_call(struct test_world *w, struct gntdp_hcall_sqe *s)
{
	for (unsigned int i = 0; i < BIG_OPS; i++) {
		uint64_t ga = GA(BIG_GFN, 0) + (uint64_t)i * sizeof(struct gntdp_gnttab_copy);
		uint8_t *f = gntdp_domain_frame(w->gt, DOM_CLIENT2, ga >> 12);
		struct gntdp_gnttab_copy *op = (void *)(f + (ga & 4095));

		memset(op, 0, sizeof(*op));
		op->source.u.gmfn = 0;
		op->source.domid = GNTDP_DOMID_SELF;
		op->source.offset = (uint16_t)((i % 64) * 64);
		op->dest.u.gmfn = 1;
		op->dest.domid = GNTDP_DOMID_SELF;
		op->dest.offset = (uint16_t)((i % 64) * 64);
		op->len = 64;
		op->status = 0x7fff;
	}
	memset(s, 0, sizeof(*s));
	s->user_data = 77;
	s->cmd = GNTDP_GNTTABOP_COPY;
	s->count = BIG_OPS;
	s->gaddr = GA(BIG_GFN, 0);
}

/* Ops of the big call whose status is still the sentinel; -1 if the prefix rule is broken. */
static int
big_unrun(struct test_world *w)
{
	unsigned int ran = 0;

	for (unsigned int i = 0; i < BIG_OPS; i++) {
		uint64_t ga = GA(BIG_GFN, 0) + (uint64_t)i * sizeof(struct gntdp_gnttab_copy);
		const uint8_t *f = gntdp_domain_frame(w->gt, DOM_CLIENT2, ga >> 12);
		const struct gntdp_gnttab_copy *op = (const void *)(f + (ga & 4095));

		if (op->status == GNTDP_GNTST_OKAY && ran == i)
			ran++;
		else if (op->status != 0x7fff)
			return -1;
	}
	return (int)(BIG_OPS - ran);
}

static int
big_ring(struct gntdp_dp *dp, unsigned int preempt_ops, struct gntdp_dp_hcall **out)
{
	struct gntdp_dp_hcall_conf hc;

	gntdp_dp_hcall_conf_init(&hc);
	CHECK(hc.preempt_ops == GNTDP_DP_HCALL_DEFAULT_PREEMPT_OPS);
	hc.domid = DOM_CLIENT2;
	hc.sq_entries = RING;
	hc.cq_entries = RING;
	hc.preempt_ops = preempt_ops;
	return gntdp_dp_hcall_create(dp, &hc, out);
}

/*
 * Driven by hand (gntdp_dp_poll, workers stopped), so every step is exact:
 * with preempt_ops 64 the big call runs one 64-op chunk per poll while ring
 * A's calls on the same worker complete in the first poll; the ring takes
 * nothing after the big call until it completes; the slices together do
 * every op once. A destroy in mid-call completes it with -ECANCELED, the
 * ops before the preemption done and the others never run.
 */
static int
test_preempt(struct test_world *w, struct gntdp_dp *dp, struct gntdp_dp_hcall *a)
{
	struct gntdp_hcall_sqe s[2], sa[4];
	struct gntdp_hcall_cqe c[4];
	struct gntdp_dp_hcall_info info;
	struct gntdp_dp_hcall_conf hc;
	struct gntdp_dp_hcall *p;
	struct gntdp_hcall_client cl;
	unsigned int polls = 0, got;
	size_t size;
	void *mem;

	CHECK(big_ring(dp, 64, &p) == 0);
	big_call(w, &s[0]);
	s[1] = s[0];
	s[1].user_data = 78;
	s[1].count = 1; /* behind the big one: waits for it */
	CHECK(gntdp_dp_hcall_submit_burst(p, s, 2) == 2);
	for (uint32_t k = 0; k < 4; k++)
		make_sqe(w, &sa[k], k);
	CHECK(gntdp_dp_hcall_submit_burst(a, sa, 4) == 4);
	CHECK(gntdp_dp_poll(dp, 0) > 0);
	/* One poll: all of A's calls, one chunk of the big one. */
	CHECK(gntdp_dp_hcall_reap_burst(a, c, 4) == 4);
	for (uint32_t k = 0; k < 4; k++)
		CHECK(check_cqe(w, &c[k], k) == 0);
	CHECK(gntdp_dp_hcall_reap_burst(p, c, 2) == 0);
	CHECKF(big_unrun(w) == (int)(BIG_OPS - 64), "after one poll: %d unrun", big_unrun(w));
	for (polls = 1, got = 0; got == 0 && polls < 1000; polls++) {
		CHECK(gntdp_dp_poll(dp, 0) > 0);
		got = gntdp_dp_hcall_reap_burst(p, c, 2);
	}
	CHECKF(polls == BIG_OPS / 64 && got == 1, "%u polls, %u completions", polls, got);
	CHECK(c[0].user_data == 77 && c[0].rc == 0 && big_unrun(w) == 0);
	CHECK(gntdp_dp_poll(dp, 0) > 0);
	CHECK(gntdp_dp_hcall_reap_burst(p, c, 2) == 1 && c[0].user_data == 78 && c[0].rc == 0);
	CHECK(gntdp_dp_hcall_info(p, &info) == 0);
	CHECKF(info.preempted == BIG_OPS / 64 - 1 && info.calls == 2 && info.ops == BIG_OPS + 1,
	       "preempted %llu calls %llu ops %llu", (unsigned long long)info.preempted,
	       (unsigned long long)info.calls, (unsigned long long)info.ops);

	CHECK(gntdp_dp_hcall_destroy(dp, p) == 0);

	/* Destroy in mid-call, on a ring in our own memory (to read its CQ afterwards). */
	gntdp_dp_hcall_conf_init(&hc);
	hc.domid = DOM_CLIENT2;
	hc.sq_entries = RING;
	hc.cq_entries = RING;
	hc.preempt_ops = 64;
	size = gntdp_hcall_ring_mem_size(RING, RING);
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(mem != MAP_FAILED);
	hc.mem = mem;
	hc.mem_size = size;
	CHECK(gntdp_dp_hcall_create(dp, &hc, &p) == 0);
	big_call(w, &s[0]);
	CHECK(gntdp_dp_hcall_submit_burst(p, s, 1) == 1);
	CHECK(gntdp_dp_poll(dp, 0) > 0);
	CHECK(gntdp_dp_poll(dp, 0) > 0);
	CHECK(gntdp_dp_hcall_destroy(dp, p) == 0);
	CHECK(gntdp_hcall_client_init(&cl, mem, size) == 0);
	CHECK(gntdp_hcall_client_reap(&cl, c, 4) == 1);
	CHECKF(c[0].user_data == 77 && c[0].rc == -ECANCELED, "rc %d", c[0].rc);
	CHECKF(big_unrun(w) == (int)(BIG_OPS - 128), "destroyed after two polls: %d unrun",
	       big_unrun(w));
	CHECK(munmap(mem, size) == 0);
	printf("preempt: a %u-op call in %u slices of 64 ops beside ring A; destroyed in mid-call:"
	       " 128 ops done, the rest never run\n", BIG_OPS, polls);
	return 0;
}

static int
run(struct test_world *w, struct gntdp_dp *dp)
{
	struct gntdp_dp_hcall *r, *r2, *r3, *rr;
	struct gntdp_dp_hcall_conf bad;
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	CHECK(efd >= 0);
	CHECK(grant_frames(w, DOM_CLIENT) == 0);
	gntdp_dp_hcall_conf_init(&bad);
	bad.sq_entries = 3;
	CHECK(gntdp_dp_hcall_create(dp, &bad, &r) == -EINVAL);
	CHECK(make_ring(dp, DOM_CLIENT, GNTDP_DP_HCALL_NATIVE, efd, &r) == 0);
	CHECK(test_round_trip(w, dp, r, 20000) == 0);
	CHECK(test_hostile_rewrites(w, dp, r) == 0);
	CHECK(test_wakeup(w, dp, r, efd) == 0);
	CHECK(gntdp_dp_hcall_destroy(dp, r) == 0);

	CHECK(make_ring(dp, DOM_CLIENT, GNTDP_DP_HCALL_RTE_RING, -1, &rr) == 0);
	CHECK(test_round_trip(w, dp, rr, 3000) == 0);
	CHECK(gntdp_dp_hcall_destroy(dp, rr) == 0);

	CHECK(make_ring(dp, DOM_CLIENT, GNTDP_DP_HCALL_NATIVE, -1, &r) == 0);
	CHECK(make_ring(dp, DOM_CLIENT2, GNTDP_DP_HCALL_NATIVE, -1, &r2) == 0);
	CHECK(make_ring(dp, DOM_CLIENT, GNTDP_DP_HCALL_NATIVE, -1, &r3) == 0);
	CHECK(test_corrupt_indexes(w, dp, r, r2, r3) == 0);
	CHECK(gntdp_dp_hcall_destroy(dp, r) == 0);
	CHECK(gntdp_dp_hcall_destroy(dp, r2) == 0);
	CHECK(gntdp_dp_hcall_destroy(dp, r3) == 0);

	CHECK(make_ring(dp, DOM_CLIENT, GNTDP_DP_HCALL_NATIVE, -1, &r) == 0);
	CHECK(test_live(w, dp, r) == 0);
	CHECK(test_preempt(w, dp, r) == 0);
	CHECK(gntdp_dp_hcall_destroy(dp, r) == 0);
	close(efd);
	return 0;
}

int
main(int argc, char **argv)
{
	struct gntdp_dp *dp = NULL;
	struct test_world w;
	FILE *logf;
	int rc;

	rc = dp_test_eal("dp_hcall", argc, argv);
	if (rc != 0)
		return rc;
	/* Capture the data plane's log lines (the disabled rings must each leave one). */
	logf = open_memstream(&log_buf, &log_len);
	if (logf != NULL)
		rte_openlog_stream(logf);
	if (dp_test_world(&w) != 0)
		return dp_test_finish(NULL, &w, 1);
	if (gntdp_dp_create(w.gt, NULL, &dp) != 0)
		return dp_test_finish(dp, &w, 1);
	rc = run(&w, dp);
	rte_openlog_stream(NULL);
	if (logf != NULL)
		fclose(logf);
	printf("%s\n", rc == 0 ? "PASS" : "FAIL");
	free(log_buf);
	return dp_test_finish(dp, &w, rc);
}
