/* SPDX-License-Identifier: MIT */
/*
 * gntdp-netback, stepped in one thread: each case builds a world (backend,
 * guests, vifs) from a configuration, then alternates one backend poll
 * iteration and one frontend pass, as STYLE.md 3.9 suggests for
 * deterministic interleavings. Cases:
 *
 *  - guest to guest with every byte verified: 14 B to 64 KiB - 1 frames,
 *    multi-slot chains up to 18 slots, first-slot offsets, GSO / hash /
 *    multicast-control extra slots, in direct, staged and Xen-exact modes;
 *  - the protocol's bookkeeping: one TX response per slot (NULL for
 *    extras), RX responses in the requests' own slots with their ids,
 *    multi-slot RX, req_event / rsp_event notification suppression;
 *  - a malformed frontend (more_data beyond req_prod, more than 20 slots,
 *    offset + size > 4096, runaway TX and RX req_prod, bad extra info, bad
 *    GSO, bad grants under both policies) is disabled alone and counted,
 *    while another pair of guests keeps forwarding verified frames; the
 *    non-fatal ones (runt, 19 slots, oversize chain, bad grant with the
 *    Linux policy) get error responses and the vif stays up;
 *  - the hold bound: the backend's pins of a TX grant (peek mapping and
 *    cached copy pin) are released within hold_us + one iteration of when
 *    they were taken, idle, busy, and for a grant in use all the time;
 *  - an unknown copy kernel is refused with the data plane's error;
 *  - a full RX ring is a wait, not a stall: a wait begun at the current
 *    clock lasted nothing (rx_room called twice at one clock), and two
 *    guests sending to one with two RX buffers lose nothing to rx_stalled;
 *  - MTU: frames above a vif's MTU + 22 are dropped where they enter and
 *    per destination (too_big, answered OKAY), GSO frames are not bound;
 *  - buffer placement: TX and RX data at each buffer's own staggered offset
 *    within the page, TX buffers reused LIFO (16 of a pool of 256 in use),
 *    inflight_bytes bounding the frame bytes in flight.
 *
 * Usage: test_netback huge|nohuge [case]; exit 0 pass, 1 fail, 77 skip.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "be_internal.h"

#define SKIP 77

static int failures;

#define CHECK(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("FAIL %s:%d: %s: ", __func__, __LINE__, #cond);                      \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
			failures++;                                                                \
			return -1;                                                                 \
		}                                                                                  \
	} while (0)

static struct nb nb;

static void
set(const char *sect, const char *key, const char *val)
{
	if (conf_set(&nb.conf, "test", sect, key, val) != 0)
		abort();
}

static void
conf_base(void)
{
	conf_defaults(&nb.conf);
	nb.conf.quiet = true;
	nb.conf.progress_ms = 0;
	set("backend", "mbufs", "2047");
	set("backend", "peek_entries", "256");
	/* Lossless whatever the pace of the stepping (no case here is about stalls). */
	set("backend", "rx_stall_us", "10000000");
}

/* Every vif configured so far takes jumbo frames (MTU 9000; the cases that send them). */
static void
jumbo_vifs(void)
{
	for (unsigned int i = 0; i < NB_MAX_VIFS; i++)
		nb.conf.vifs[i].mtu = NB_MTU_MAX;
}

static int
world_up(void)
{
	if (conf_validate(&nb.conf) != 0)
		return -EINVAL;
	return nb_setup(&nb);
}

static void
world_down(void)
{
	nb_teardown(&nb);
	memset(&nb, 0, sizeof(nb));
}

/*
 * One iteration of the data-plane worker that runs the backend's poller (a
 * manual worker: EAL has one lcore here), exactly as its lcore would run it.
 */
static unsigned int
be_step(void)
{
	int n = gntdp_dp_poll(nb.dp, 0);

	if (n < 0)
		abort();
	return (unsigned int)n;
}

/* Alternate backend and frontends; returns the work done. */
static unsigned int
step(unsigned int n)
{
	unsigned int w = 0;

	for (unsigned int i = 0; i < n; i++) {
		w += be_step();
		w += fe_poll(&nb.fe);
	}
	return w;
}

/* Step until @p n consecutive iterations did nothing (or a cap). */
static void
settle(void)
{
	unsigned int idle = 0;

	for (unsigned int i = 0; i < 200000 && idle < 8; i++)
		idle = step(1) == 0 ? idle + 1 : 0;
}

static struct be_vif *
bv(unsigned int i)
{
	return &nb.be.vifs[i];
}

static struct fe_vif *
fv(unsigned int i)
{
	return &nb.fe.vifs[i];
}

/* ---- Raw frontend access (what a buggy or hostile guest writes) ----------- */

static uint16_t
take_buf(struct fe_vif *v, gntdp_grant_ref_t *gref)
{
	uint16_t id = v->tx_free[--v->n_tx_free];

	v->g->bufs[id].where = FB_TX;
	*gref = v->g->bufs[id].gref;
	return id;
}

static void
put_req(struct fe_vif *v, gntdp_grant_ref_t gref, uint16_t off, uint16_t flags, uint16_t id,
	uint16_t size)
{
	struct gntdp_netif_tx_request r = {
		.gref = gref, .offset = off, .flags = flags, .id = id, .size = size,
	};

	v->tx->ring[GNTDP_NETIF_RING_SLOT(v->tx_prod++)].req = r;
	v->tx_inflight++;
}

static void
put_extra(struct fe_vif *v, uint8_t type, uint8_t flags, uint16_t gso_size, uint8_t gso_type)
{
	struct gntdp_netif_extra_info x;

	memset(&x, 0, sizeof(x));
	x.type = type;
	x.flags = flags;
	x.u.gso.size = gso_size;
	x.u.gso.type = gso_type;
	memcpy(&v->tx->ring[GNTDP_NETIF_RING_SLOT(v->tx_prod++)], &x, sizeof(x));
	v->tx_inflight++;
}

static bool
push(struct fe_vif *v, uint32_t old)
{
	return ring_push_requests(&v->tx->hdr, old, v->tx_prod);
}

/* A chain of @p nslots slots of @p each bytes from fresh buffers (dst = the vif's dst). */
static void
put_chain(struct fe_vif *v, unsigned int nslots, uint16_t each)
{
	for (unsigned int k = 0; k < nslots; k++) {
		gntdp_grant_ref_t g;
		uint16_t id = take_buf(v, &g);

		put_req(v, g, 0, k + 1 < nslots ? GNTDP_NETTXF_MORE_DATA : 0, id,
			k == 0 ? (uint16_t)(each * nslots) : each);
	}
}

/* ---- Guest to guest, verified ------------------------------------------------ */

/*
 * vif0 and vif1 generate verified frames to each other; vif2, a third member
 * of the bridge, gets the first frames while the addresses are unknown.
 * Checks that every frame arrived intact and in order and that every slot
 * was answered.
 */
static int
g2g_verified(const char *g2g, const char *hold)
{
	conf_base();
	set("backend", "g2g", g2g);
	set("backend", "hold_us", hold);
	set("vif0", "guest", "1");
	set("vif0", "mode", "gen");
	set("vif0", "dst", "vif1");
	set("vif0", "sizes", "14,60,64,100,1500,4095,4096,4097,9000,65535");
	set("vif0", "count", "600");
	set("vif0", "tx_offset", "64");
	set("vif0", "extra", "gso");
	set("vif0", "verify", "on");
	set("vif1", "guest", "2");
	set("vif1", "mode", "gen");
	set("vif1", "dst", "vif0");
	set("vif1", "sizes", "9000,64,1514,513,8999");
	set("vif1", "slot_size", "512");
	set("vif1", "count", "500");
	set("vif1", "extra", "hash");
	set("vif1", "verify", "on");
	set("vif2", "guest", "3"); /* a third member: sees the floods before learning */
	set("vif2", "verify", "on");
	jumbo_vifs();
	CHECK(world_up() == 0, "setup");
	for (unsigned int i = 0; i < 100000 && !fe_gen_done(&nb.fe); i++)
		step(1);
	settle();
	CHECK(fe_gen_done(&nb.fe), "generators done: vif0 sent %lu, vif1 sent %lu",
	      (unsigned long)fv(0)->sent, (unsigned long)fv(1)->sent);
	for (unsigned int i = 0; i < 2; i++) {
		const struct fe_vif_stats *s = &fv(i)->st;
		const struct vif_stats *b = &bv(i)->st;

		CHECK(bv(i)->state == VIF_UP, "vif%u up (%s)", i, bv(i)->fatal_detail);
		CHECK(s->verify_bad == 0 && s->order_bad == 0, "vif%u: %lu bad, %lu out of order",
		      i, (unsigned long)s->verify_bad, (unsigned long)s->order_bad);
		CHECK(s->tx_rsp_err == 0 && s->tx_rsp_bad == 0, "vif%u TX errors %lu bad %lu", i,
		      (unsigned long)s->tx_rsp_err, (unsigned long)s->tx_rsp_bad);
		/* One response per slot: OKAY per data slot, NULL per extra. */
		CHECK(s->tx_rsp_ok == b->tx_slots && s->tx_rsp_null == b->tx_extras,
		      "vif%u: ok %lu for %lu slots, null %lu for %lu extras", i,
		      (unsigned long)s->tx_rsp_ok, (unsigned long)b->tx_slots,
		      (unsigned long)s->tx_rsp_null, (unsigned long)b->tx_extras);
		for (unsigned int d = 1; d < DROP_COUNT; d++)
			CHECK(b->drops[d] == 0, "vif%u drop %s %lu", i, nb_drop_name(d),
			      (unsigned long)b->drops[d]);
	}
	/*
	 * Every frame arrived (a few early ones were flooded to vif2 too); the
	 * 14-byte ones are too short to carry the checked payload.
	 */
	CHECK(fv(1)->st.rx_pkts == 600 && fv(1)->st.verify_ok == 540,
	      "vif1 got %lu of 600, %lu of 540 verified", (unsigned long)fv(1)->st.rx_pkts,
	      (unsigned long)fv(1)->st.verify_ok);
	CHECK(fv(0)->st.verify_ok == 500, "vif0 got %lu of 500",
	      (unsigned long)fv(0)->st.verify_ok);
	CHECK(fv(2)->st.verify_bad == 0, "vif2 bad %lu", (unsigned long)fv(2)->st.verify_bad);
	CHECK(bv(0)->st.tx_gso == 600, "GSO extras %lu", (unsigned long)bv(0)->st.tx_gso);
	/* Every frame here has an extra slot: none may take the express lane. */
	CHECK(nb.be.st.express_pkts == 0, "express lane moved %lu frames",
	      (unsigned long)nb.be.st.express_pkts);
	CHECK(bv(1)->st.tx_extras == 500, "hash extras %lu", (unsigned long)bv(1)->st.tx_extras);
	/* Chains: 9000 B in 512-byte slots is 18 slots. */
	CHECK(bv(1)->st.tx_slots > 500 * 5, "vif1 slots %lu", (unsigned long)bv(1)->st.tx_slots);
	printf("  g2g %s hold %s: %lu + %lu frames verified, ops %lu, peek maps %lu\n", g2g, hold,
	       (unsigned long)fv(1)->st.verify_ok, (unsigned long)fv(0)->st.verify_ok,
	       (unsigned long)nb.be.st.ops, (unsigned long)bv(0)->st.peek_maps);
	world_down();
	return 0;
}

static int
test_g2g_direct(void)
{
	return g2g_verified("direct", "100");
}

static int
test_g2g_staged(void)
{
	return g2g_verified("staged", "100");
}

static int
test_g2g_xen_exact(void)
{
	return g2g_verified("direct", "0");
}

/*
 * Single-slot frames of one flow take the express lane (direct mode); a
 * multi-slot frame in the middle of the flow hands over to the general path
 * and back, in order. Every byte is checked.
 */
static int
test_express_verified(void)
{
	conf_base();
	/* Peek mappings must outlive a trip round the buffers, however slow the build (ASan). */
	set("backend", "hold_us", "1000000");
	set("vif0", "guest", "1");
	set("vif0", "mode", "gen");
	set("vif0", "dst", "vif1");
	set("vif0", "sizes", "64,1500,60,4096,64,9000,128");
	set("vif0", "count", "3000");
	set("vif0", "tx_offset", "32");
	set("vif0", "verify", "on");
	set("vif1", "guest", "2");
	set("vif1", "verify", "on");
	jumbo_vifs();
	CHECK(world_up() == 0, "setup");
	for (unsigned int i = 0; i < 100000 && !fe_gen_done(&nb.fe); i++)
		step(1);
	settle();
	CHECK(fv(1)->st.verify_ok == 3000 && fv(1)->st.verify_bad == 0 &&
		      fv(1)->st.order_bad == 0,
	      "verified %lu, bad %lu, out of order %lu", (unsigned long)fv(1)->st.verify_ok,
	      (unsigned long)fv(1)->st.verify_bad, (unsigned long)fv(1)->st.order_bad);
	CHECK(nb.be.st.express_pkts > 0 && nb.be.st.express_pkts < 3000,
	      "express lane moved %lu of 3000 (the 9000-byte frames cannot)",
	      (unsigned long)nb.be.st.express_pkts);
	CHECK(fv(0)->st.tx_rsp_ok == bv(0)->st.tx_slots, "one response per slot");
	printf("  express lane: %lu of 3000 frames\n", (unsigned long)nb.be.st.express_pkts);
	world_down();
	return 0;
}

/* Multicast-control requests are answered (OKAY + NULL) and not forwarded. */
static int
test_mcast_ctrl(void)
{
	conf_base();
	set("vif0", "guest", "1");
	set("vif0", "mode", "gen");
	set("vif0", "dst", "vif1");
	set("vif0", "count", "64");
	set("vif0", "extra", "mcast");
	set("vif1", "guest", "2");
	CHECK(world_up() == 0, "setup");
	settle();
	CHECK(bv(0)->st.tx_ctrl == 4, "control requests %lu", (unsigned long)bv(0)->st.tx_ctrl);
	CHECK(fv(1)->st.rx_pkts == 60, "forwarded %lu", (unsigned long)fv(1)->st.rx_pkts);
	CHECK(fv(0)->st.tx_rsp_null == 4 && fv(0)->st.tx_rsp_ok == 64, "null %lu ok %lu",
	      (unsigned long)fv(0)->st.tx_rsp_null, (unsigned long)fv(0)->st.tx_rsp_ok);
	world_down();
	return 0;
}

/* ---- Ring bookkeeping ------------------------------------------------------------ */

/* RX responses go in the requests' own slots, with their ids; big frames span slots. */
static int
test_rx_slots(void)
{
	struct gntdp_netif_rx_request posted[8];
	uint32_t base;

	conf_base();
	set("backend", "rx_stagger", "off");
	set("vif0", "guest", "1");
	set("vif0", "mode", "gen");
	set("vif0", "dst", "vif1");
	set("vif0", "sizes", "9000,100");
	set("vif0", "count", "2");
	set("vif1", "guest", "2");
	jumbo_vifs();
	CHECK(world_up() == 0, "setup");
	/* The frontends post their RX buffers; note what vif1 posted. */
	fe_poll(&nb.fe);
	base = fv(1)->rx_cons;
	for (unsigned int k = 0; k < 8; k++)
		posted[k] = fv(1)->rx->ring[GNTDP_NETIF_RING_SLOT(base + k)].req;
	/* Backend only: both frames delivered, responses not yet consumed. */
	for (unsigned int i = 0; i < 4; i++)
		be_step();
	CHECK(fv(1)->rx->hdr.rsp_prod == base + 4, "rsp_prod %u, expected %u",
	      fv(1)->rx->hdr.rsp_prod, base + 4);
	for (unsigned int k = 0; k < 4; k++) {
		struct gntdp_netif_rx_response r =
			fv(1)->rx->ring[GNTDP_NETIF_RING_SLOT(base + k)].rsp;
		static const int16_t want[4] = {4096, 4096, 808, 100};
		static const uint16_t more[4] = {1, 1, 0, 0};

		CHECK(r.id == posted[k].id, "slot %u: id %u, request id %u", k, r.id, posted[k].id);
		CHECK(r.status == want[k] && r.offset == 0, "slot %u: status %d offset %u", k,
		      r.status, r.offset);
		CHECK(!!(r.flags & GNTDP_NETRXF_MORE_DATA) == more[k], "slot %u flags %x", k,
		      r.flags);
	}
	settle();
	CHECK(fv(1)->st.rx_pkts == 2 && fv(1)->st.rx_bytes == 9100, "rx %lu pkts %lu B",
	      (unsigned long)fv(1)->st.rx_pkts, (unsigned long)fv(1)->st.rx_bytes);
	world_down();
	return 0;
}

/* req_event / rsp_event: notifications only when the other end asked for them. */
static int
test_notify(void)
{
	struct fe_vif *v;
	uint32_t old, cons;

	conf_base();
	set("vif0", "guest", "1");
	set("vif0", "mode", "gen");
	set("vif0", "dst", "vif1");
	set("vif0", "count", "1");
	set("vif1", "guest", "2");
	CHECK(world_up() == 0, "setup");
	settle();
	v = fv(0);
	/* An idle backend armed req_event at req_cons + 1. */
	CHECK(v->tx->hdr.req_event == bv(0)->tx_cons + 1, "req_event %u, cons %u",
	      v->tx->hdr.req_event, bv(0)->tx_cons);
	old = v->tx_prod;
	put_chain(v, 1, 64);
	CHECK(push(v, old), "the first request after idle notifies the backend");
	old = v->tx_prod;
	put_chain(v, 1, 64);
	CHECK(!push(v, old), "a second push before the backend ran is suppressed");
	/* The frontend armed rsp_event when it found no responses (settle). */
	cons = v->tx_cons;
	CHECK(v->tx->hdr.rsp_event == cons + 1, "rsp_event %u, rsp_cons %u", v->tx->hdr.rsp_event,
	      cons);
	{
		uint64_t n0 = bv(0)->st.tx_notify;

		be_step();
		CHECK(bv(0)->st.tx_notify == n0 + 1, "backend notified once (%lu)",
		      (unsigned long)(bv(0)->st.tx_notify - n0));
		/* Consume without re-arming: the next responses must not notify. */
		v->tx_cons = v->tx->hdr.rsp_prod;
		v->tx_inflight -= 2;
		old = v->tx_prod;
		put_chain(v, 1, 64);
		push(v, old);
		be_step();
		CHECK(bv(0)->st.tx_notify == n0 + 1, "suppressed while rsp_event lags (%lu)",
		      (unsigned long)(bv(0)->st.tx_notify - n0));
	}
	settle();
	CHECK(fv(1)->st.rx_pkts == 4, "vif1 got %lu", (unsigned long)fv(1)->st.rx_pkts);
	CHECK(bv(0)->state == VIF_UP, "up");
	world_down();
	return 0;
}

/* ---- Malformed frontends ------------------------------------------------------- */

/*
 * vif0 (guest 1) is driven by hand and sends to vif1 (guest 2); vif2 (guest
 * 3) sends verified frames to vif3 (guest 4) on another bridge all along.
 */
static int
malformed_world(const char *bad_gref)
{
	conf_base();
	set("backend", "bad_gref", bad_gref);
	set("vif0", "guest", "1");
	set("vif0", "mode", "gen");
	set("vif0", "dst", "vif1");
	set("vif0", "count", "1");
	set("vif0", "depth", "64");
	set("vif1", "guest", "2");
	set("vif2", "guest", "3");
	set("vif2", "bridge", "1");
	set("vif2", "mode", "gen");
	set("vif2", "dst", "vif3");
	set("vif2", "sizes", "64,1500,9000");
	set("vif2", "verify", "on");
	set("vif3", "guest", "4");
	set("vif3", "bridge", "1");
	set("vif3", "verify", "on");
	jumbo_vifs();
	if (world_up() != 0)
		return -1;
	step(200);
	return fv(1)->st.rx_pkts == 1 && fv(3)->st.verify_ok > 0 ? 0 : -1;
}

/* After the attack: only vif0 is down (or none), the others keep forwarding. */
static int
bystanders_ok(bool vif0_down, enum nb_fatal why)
{
	uint64_t before = fv(3)->st.verify_ok;

	step(300);
	if (vif0_down) {
		CHECK(bv(0)->state == VIF_DISABLED, "vif0 disabled");
		CHECK(bv(0)->fatal == why, "reason %s, expected %s",
		      nb_fatal_name((enum nb_fatal)bv(0)->fatal), nb_fatal_name(why));
		CHECK(bv(0)->st.fatal[why] == 1, "counted");
		printf("  vif0 disabled: %s: %s\n", nb_fatal_name(why), bv(0)->fatal_detail);
	} else {
		CHECK(bv(0)->state == VIF_UP, "vif0 still up (%s)", bv(0)->fatal_detail);
	}
	for (unsigned int i = 1; i < 4; i++)
		CHECK(bv(i)->state == VIF_UP, "vif%u up (%s)", i, bv(i)->fatal_detail);
	CHECK(fv(3)->st.verify_ok > before, "bystanders forwarded %lu more",
	      (unsigned long)(fv(3)->st.verify_ok - before));
	CHECK(fv(3)->st.verify_bad == 0 && fv(3)->st.order_bad == 0, "bystander frames intact");
	return 0;
}

static int
finish(int rc)
{
	world_down();
	return rc;
}

static int
test_bad_chain_beyond_prod(void)
{
	struct fe_vif *v;
	uint32_t old;

	CHECK(malformed_world("drop") == 0, "setup");
	v = fv(0);
	old = v->tx_prod;
	put_chain(v, 3, 100);
	/* The last slot claims more data that was never posted. */
	v->tx->ring[GNTDP_NETIF_RING_SLOT(v->tx_prod - 1)].req.flags |= GNTDP_NETTXF_MORE_DATA;
	push(v, old);
	return finish(bystanders_ok(true, FATAL_CHAIN_PROD));
}

static int
test_bad_chain_21_slots(void)
{
	uint32_t old = 0;

	CHECK(malformed_world("drop") == 0, "setup");
	old = fv(0)->tx_prod;
	put_chain(fv(0), 21, 64);
	push(fv(0), old);
	return finish(bystanders_ok(true, FATAL_CHAIN_SLOTS));
}

/* 18 slots are what every backend accepts; 19 and 20 are dropped with errors. */
static int
test_slots_18_19(void)
{
	struct fe_vif *v;
	uint32_t old;

	CHECK(malformed_world("drop") == 0, "setup");
	v = fv(0);
	old = v->tx_prod;
	put_chain(v, 18, 100);
	put_chain(v, 19, 100);
	push(v, old);
	if (bystanders_ok(false, FATAL_NONE) != 0)
		return finish(-1);
	CHECK(fv(1)->st.rx_pkts == 2, "the 18-slot frame arrived (%lu)",
	      (unsigned long)fv(1)->st.rx_pkts);
	CHECK(bv(0)->st.drops[DROP_TOO_MANY_SLOTS] == 1, "19 slots dropped");
	CHECK(fv(0)->st.tx_rsp_err == 19, "19 error responses (%lu)",
	      (unsigned long)fv(0)->st.tx_rsp_err);
	return finish(0);
}

static int
test_oversized_slot(void)
{
	struct fe_vif *v;
	gntdp_grant_ref_t g;
	uint16_t id;
	uint32_t old;

	CHECK(malformed_world("drop") == 0, "setup");
	v = fv(0);
	old = v->tx_prod;
	id = take_buf(v, &g);
	put_req(v, g, 4000, 0, id, 200); /* 4000 + 200 > 4096 */
	push(v, old);
	return finish(bystanders_ok(true, FATAL_OVERSIZED_SLOT));
}

static int
test_oversized_frag(void)
{
	struct fe_vif *v;
	gntdp_grant_ref_t g;
	uint16_t id;
	uint32_t old;

	CHECK(malformed_world("drop") == 0, "setup");
	v = fv(0);
	old = v->tx_prod;
	id = take_buf(v, &g);
	put_req(v, g, 0, GNTDP_NETTXF_MORE_DATA, id, 3000);
	id = take_buf(v, &g);
	put_req(v, g, 3000, 0, id, 1500); /* 3000 + 1500 > 4096 */
	push(v, old);
	return finish(bystanders_ok(true, FATAL_OVERSIZED_SLOT));
}

static int
test_runaway_req_prod(void)
{
	struct fe_vif *v;

	CHECK(malformed_world("drop") == 0, "setup");
	v = fv(0);
	ring_store_release(&v->tx->hdr.req_prod, v->tx_prod + 1000);
	return finish(bystanders_ok(true, FATAL_TX_RUNAWAY));
}

/* A destination whose RX req_prod runs away is disabled; its senders go on. */
static int
test_runaway_rx_req_prod(void)
{
	uint32_t old;

	CHECK(malformed_world("drop") == 0, "setup");
	ring_store_release(&fv(1)->rx->hdr.req_prod, fv(1)->rx_prod + 5000);
	old = fv(0)->tx_prod;
	put_chain(fv(0), 1, 64);
	push(fv(0), old);
	step(300);
	CHECK(bv(1)->state == VIF_DISABLED && bv(1)->fatal == FATAL_RX_RUNAWAY, "vif1 disabled");
	CHECK(bv(0)->state == VIF_UP && bv(2)->state == VIF_UP && bv(3)->state == VIF_UP,
	      "others up");
	CHECK(bv(0)->st.drops[DROP_DEST_DOWN] >= 1, "counted at the sender");
	return finish(0);
}

static int
test_bad_extra(void)
{
	struct fe_vif *v;
	gntdp_grant_ref_t g;
	uint16_t id;
	uint32_t old;

	CHECK(malformed_world("drop") == 0, "setup");
	v = fv(0);
	old = v->tx_prod;
	id = take_buf(v, &g);
	put_req(v, g, 0, GNTDP_NETTXF_EXTRA_INFO, id, 64);
	put_extra(v, 9, 0, 0, 0);
	push(v, old);
	return finish(bystanders_ok(true, FATAL_BAD_EXTRA));
}

static int
test_bad_gso(void)
{
	struct fe_vif *v;
	gntdp_grant_ref_t g;
	uint16_t id;
	uint32_t old;

	CHECK(malformed_world("drop") == 0, "setup");
	v = fv(0);
	old = v->tx_prod;
	id = take_buf(v, &g);
	put_req(v, g, 0, GNTDP_NETTXF_EXTRA_INFO, id, 64);
	put_extra(v, GNTDP_NETIF_EXTRA_TYPE_GSO, 0, 0, GNTDP_NETIF_GSO_TYPE_TCPV4);
	push(v, old);
	return finish(bystanders_ok(true, FATAL_BAD_GSO));
}

/* Runt and inconsistent sizes: error responses, like Linux netback, vif stays up. */
static int
test_runt_and_bad_size(void)
{
	struct fe_vif *v;
	gntdp_grant_ref_t g;
	uint16_t id;
	uint32_t old;

	CHECK(malformed_world("drop") == 0, "setup");
	v = fv(0);
	old = v->tx_prod;
	id = take_buf(v, &g);
	put_req(v, g, 0, 0, id, 10);
	id = take_buf(v, &g);
	put_req(v, g, 0, GNTDP_NETTXF_MORE_DATA, id, 100);
	id = take_buf(v, &g);
	put_req(v, g, 0, 0, id, 200); /* more than the 100 the first slot announced */
	put_chain(v, 1, 64);          /* and a good one after them */
	push(v, old);
	if (bystanders_ok(false, FATAL_NONE) != 0)
		return finish(-1);
	CHECK(bv(0)->st.drops[DROP_RUNT] == 1 && bv(0)->st.drops[DROP_BAD_SIZE] == 1, "counted");
	CHECK(fv(0)->st.tx_rsp_err == 3, "3 error responses (%lu)",
	      (unsigned long)fv(0)->st.tx_rsp_err);
	CHECK(fv(1)->st.rx_pkts == 2, "the good frame went through (%lu)",
	      (unsigned long)fv(1)->st.rx_pkts);
	return finish(0);
}

/* A TX grant that does not exist, in the first slot or a later one. */
static int
bad_gref(const char *policy, bool later_slot)
{
	struct fe_vif *v;
	gntdp_grant_ref_t g;
	uint16_t id;
	uint32_t old;
	bool disable = strcmp(policy, "disable") == 0;

	CHECK(malformed_world(policy) == 0, "setup");
	v = fv(0);
	old = v->tx_prod;
	id = take_buf(v, &g);
	if (later_slot) {
		put_req(v, g, 0, GNTDP_NETTXF_MORE_DATA, id, 200);
		id = take_buf(v, &g);
		put_req(v, 60000, 0, 0, id, 100);
	} else {
		put_req(v, 60000, 0, 0, id, 100);
	}
	put_chain(v, 1, 64);
	push(v, old);
	if (bystanders_ok(disable, FATAL_TX_BAD_GREF) != 0)
		return finish(-1);
	if (!disable) {
		CHECK(bv(0)->st.drops[DROP_TX_BAD_GREF] == 1, "counted (%lu)",
		      (unsigned long)bv(0)->st.drops[DROP_TX_BAD_GREF]);
		CHECK(fv(0)->st.tx_rsp_err == (later_slot ? 2u : 1u), "error responses %lu",
		      (unsigned long)fv(0)->st.tx_rsp_err);
		CHECK(fv(1)->st.rx_pkts == 2, "the good frame after it arrived (%lu)",
		      (unsigned long)fv(1)->st.rx_pkts);
		CHECK(fv(1)->st.rx_err == 0 || later_slot, "no torn frame at the receiver");
	}
	return finish(0);
}

static int
test_bad_gref_drop(void)
{
	return bad_gref("drop", false);
}

static int
test_bad_gref_drop_later_slot(void)
{
	return bad_gref("drop", true);
}

static int
test_bad_gref_disable(void)
{
	return bad_gref("disable", false);
}

static int
test_bad_gref_disable_later_slot(void)
{
	return bad_gref("disable", true);
}

/* A receiver posting a page it never granted: error RX response, sender unaffected. */
static int
test_rx_bad_gref(void)
{
	struct fe_vif *r;
	uint32_t old, slot;

	CHECK(malformed_world("drop") == 0, "setup");
	r = fv(1);
	/* Rewrite the next posted RX request's grant (the guest is the page's owner). */
	slot = GNTDP_NETIF_RING_SLOT(bv(1)->rx_cons);
	r->rx->ring[slot].req.gref = 60000;
	old = fv(0)->tx_prod;
	put_chain(fv(0), 1, 64);
	put_chain(fv(0), 1, 64);
	push(fv(0), old);
	if (bystanders_ok(false, FATAL_NONE) != 0)
		return finish(-1);
	CHECK(bv(1)->state == VIF_UP, "receiver up under the Linux policy");
	CHECK(bv(1)->st.drops[DROP_RX_BAD_GREF] == 1, "counted at the receiver");
	CHECK(fv(1)->st.rx_err >= 1 && fv(1)->st.rx_pkts == 2, "rx err %lu pkts %lu",
	      (unsigned long)fv(1)->st.rx_err, (unsigned long)fv(1)->st.rx_pkts);
	CHECK(fv(0)->st.tx_rsp_err == 0, "the sender saw no error");
	return finish(0);
}

/* The same under the strict policy: the receiver is disabled, the sender is not. */
static int
test_rx_bad_gref_disable(void)
{
	uint32_t old, slot;

	CHECK(malformed_world("disable") == 0, "setup");
	slot = GNTDP_NETIF_RING_SLOT(bv(1)->rx_cons);
	fv(1)->rx->ring[slot].req.gref = 60000;
	old = fv(0)->tx_prod;
	put_chain(fv(0), 1, 64);
	push(fv(0), old);
	step(300);
	CHECK(bv(1)->state == VIF_DISABLED && bv(1)->fatal == FATAL_RX_BAD_GREF,
	      "receiver disabled (%s)", nb_fatal_name((enum nb_fatal)bv(1)->fatal));
	CHECK(bv(0)->state == VIF_UP && bv(2)->state == VIF_UP && bv(3)->state == VIF_UP,
	      "the others up");
	CHECK(fv(0)->st.tx_rsp_err == 0, "the sender saw no error");
	return finish(0);
}

/* ---- The hold bound, and the data plane's copy-kernel lookup -------------------- */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#define HOLD_MS 50u
/* Scheduling slack on a shared, oversubscribed machine (as dp_cache allows). */
#define SLACK_MS 100u

/*
 * A 64-byte frame from vif0, answered. The frontend's free list is LIFO, so
 * the buffer taken is the one the last response returned: with @p fresh
 * false it must be the same grant as before (*g).
 */
static int
send_one(gntdp_grant_ref_t *g, bool fresh)
{
	struct fe_vif *v = fv(0);
	uint64_t ok0 = v->st.tx_rsp_ok;
	uint32_t old = v->tx_prod;
	gntdp_grant_ref_t got;
	uint16_t id = take_buf(v, &got);

	CHECK(fresh || got == *g, "buffer grant %u, expected %u", got, *g);
	*g = got;
	put_req(v, got, 0, 0, id, 64);
	push(v, old);
	for (unsigned int i = 0; i < 100000 && v->st.tx_rsp_ok == ok0; i++)
		step(1);
	CHECK(v->st.tx_rsp_ok == ok0 + 1, "frame answered");
	return 0;
}

/* hold_us = HOLD_MS; vif0 (guest 1) sends one frame to vif1 (guest 2), then is driven by hand. */
static void
hold_conf(void)
{
	char hold[16];

	conf_base();
	snprintf(hold, sizeof(hold), "%u", HOLD_MS * 1000u);
	set("backend", "hold_us", hold);
	set("vif0", "guest", "1");
	set("vif0", "mode", "gen");
	set("vif0", "dst", "vif1");
	set("vif0", "count", "1");
	set("vif1", "guest", "2");
}

/*
 * The backend's pins of a TX grant (the peek mapping of its page and the
 * cached copy pin) are released at most hold_us + one iteration after they
 * were taken, on an idle backend and on a busy one (vif2 -> vif3 traffic
 * all along): the guest's end access succeeds within the bound.
 */
static int
hold_bound(bool busy)
{
	struct gntdp_grant_entry_v1 *e;
	gntdp_grant_ref_t g;
	uint64_t t0, t1, tries = 0, fwd0;

	hold_conf();
	set("vif2", "guest", "3");
	set("vif2", "bridge", "1");
	set("vif2", "mode", "gen");
	set("vif2", "dst", "vif3");
	set("vif2", "count", busy ? "0" : "1");
	set("vif3", "guest", "4");
	set("vif3", "bridge", "1");
	CHECK(world_up() == 0, "setup");
	step(200);
	CHECK(send_one(&g, true) == 0, "send");
	t0 = now_ms(); /* the pins were taken before this */
	e = &fv(0)->g->gnt[g];
	CHECK(bv(0)->st.peek_maps >= 1, "peek mapping taken");
	CHECK(gntdp_guest_end_access(e) == -EBUSY, "the backend holds the grant after the frame");
	fwd0 = fv(3)->st.rx_pkts;
	while (gntdp_guest_end_access(e) != 0 && now_ms() - t0 < 10u * (HOLD_MS + SLACK_MS)) {
		step(1);
		tries++;
	}
	t1 = now_ms();
	CHECK(gntdp_guest_end_access(e) == -EINVAL || t1 - t0 < 10u * (HOLD_MS + SLACK_MS),
	      "never released");
	CHECK(t1 - t0 <= HOLD_MS + SLACK_MS,
	      "%s backend: end access succeeded %lu ms after the frame (hold %u ms + one "
	      "iteration)", busy ? "busy" : "idle", (unsigned long)(t1 - t0), HOLD_MS);
	if (busy)
		CHECK(fv(3)->st.rx_pkts > fwd0 + 100, "the backend was busy: %lu frames meanwhile",
		      (unsigned long)(fv(3)->st.rx_pkts - fwd0));
	printf("  %s backend: TX grant released %lu ms after its frame (hold %u ms), %lu "
	       "iterations, peek unmaps %lu\n",
	       busy ? "busy" : "idle", (unsigned long)(t1 - t0), HOLD_MS, (unsigned long)tries,
	       (unsigned long)bv(0)->st.peek_unmaps);
	world_down();
	return 0;
}

static int
test_hold_bound_idle(void)
{
	return hold_bound(false);
}

static int
test_hold_bound_busy(void)
{
	return hold_bound(true);
}

/*
 * A grant in use all the time is still released by the bound: its peek
 * mapping is re-taken (a new map) at least once per hold_us + one
 * iteration, never kept alive by its use.
 */
static int
test_hold_bound_hot(void)
{
	gntdp_grant_ref_t g;
	uint64_t t0, maps0, sent = 0;

	hold_conf();
	CHECK(world_up() == 0, "setup");
	settle();
	CHECK(send_one(&g, true) == 0, "send");
	maps0 = bv(0)->st.peek_maps;
	t0 = now_ms();
	while (now_ms() - t0 < 4u * HOLD_MS) {
		CHECK(send_one(&g, false) == 0, "send");
		sent++;
	}
	CHECK(bv(0)->st.peek_maps - maps0 >= 2,
	      "a peek mapping used by %lu frames over %u ms was re-taken %lu times",
	      (unsigned long)sent, 4u * HOLD_MS, (unsigned long)(bv(0)->st.peek_maps - maps0));
	printf("  hot grant: %lu frames in %u ms, peek mapping re-taken %lu times\n",
	       (unsigned long)sent, 4u * HOLD_MS, (unsigned long)(bv(0)->st.peek_maps - maps0));
	world_down();
	return 0;
}

/* One vif with copy kernel @p name, past the config layer: what the data plane says. */
static int
setup_with_copy(const char *name)
{
	conf_base();
	set("vif0", "guest", "1");
	if (conf_validate(&nb.conf) != 0)
		return -EINVAL;
	snprintf(nb.conf.copy, sizeof(nb.conf.copy), "%s", name);
	return nb_setup(&nb);
}

/* An unknown copy kernel is refused by the data plane's lookup (-EINVAL), a known one runs. */
static int
test_copy_kernel_name(void)
{
	CHECK(setup_with_copy("avx9000") == -EINVAL, "copy = avx9000 accepted");
	world_down();
	CHECK(setup_with_copy("memmove") == 0, "copy = memmove");
	CHECK(strcmp(nb.be.copy_name, "memmove") == 0, "kernel %s", nb.be.copy_name);
	world_down();
	return 0;
}

/* ---- RX ring full: a wait is not a stall ------------------------------------- */

/*
 * The stall clock of a destination whose RX ring is full: a wait that began
 * in this very iteration (the same worker clock, even or odd) has lasted
 * nothing, and only rx_stall_us without buffers makes it a stall.
 */
static int
test_rx_wait_not_stall(void)
{
	struct be_vif *d;
	enum nb_drop why = DROP_NONE;
	uint64_t t0;

	conf_base();
	set("backend", "rx_stall_us", "1000");
	set("vif0", "guest", "1");
	set("vif0", "rx_buffers", "1");
	CHECK(world_up() == 0, "setup");
	step(4); /* the frontend posts its one buffer */
	d = bv(0);
	CHECK(d->state == VIF_UP, "vif0 up");
	for (t0 = 1000; t0 < 1002; t0++) { /* an even and an odd clock */
		nb.be.now = t0;
		nb.be.iter += 1;
		d->rx_waiting = false;
		d->rx_stalled = false;
		CHECK(rx_room(&nb.be, d, 3, &why) == ROOM_WAIT, "first wait at %lu",
		      (unsigned long)t0);
		/* The same iteration: another source, or the general path after the lane. */
		CHECK(rx_room(&nb.be, d, 3, &why) == ROOM_WAIT,
		      "a wait begun at clock %lu judged a stall at the same clock (why %s)",
		      (unsigned long)t0, nb_drop_name(why));
		nb.be.now = t0 + nb.be.stall_cycles;
		CHECK(rx_room(&nb.be, d, 3, &why) == ROOM_WAIT, "stalled before rx_stall_us");
		nb.be.now = t0 + nb.be.stall_cycles + 2;
		CHECK(rx_room(&nb.be, d, 3, &why) == ROOM_DROP && why == DROP_RX_STALLED,
		      "not stalled after rx_stall_us");
		CHECK(rx_room(&nb.be, d, 1, &why) == ROOM_OK, "room for the posted buffer");
	}
	world_down();
	return 0;
}

/*
 * Two guests send to a third that posts two RX buffers at a time: its ring
 * is full most of the time, and several sources find it full in one
 * iteration. With rx_stall_us far above the run, nothing is a stall: every
 * frame arrives, none is counted as rx_stalled.
 */
static int
test_tight_rx_no_false_drop(void)
{
	conf_base();
	for (unsigned int i = 0; i < 2; i++) {
		char sect[8];

		snprintf(sect, sizeof(sect), "vif%u", i);
		set(sect, "guest", i == 0 ? "1" : "2");
		set(sect, "mode", "gen");
		set(sect, "dst", "vif2");
		set(sect, "sizes", "64,1500,60");
		set(sect, "count", "3000");
		set(sect, "verify", "on");
	}
	set("vif2", "guest", "3");
	set("vif2", "rx_buffers", "2");
	set("vif2", "verify", "on");
	CHECK(world_up() == 0, "setup");
	for (unsigned int i = 0; i < 400000 && !fe_gen_done(&nb.fe); i++)
		step(1);
	settle();
	CHECK(fe_gen_done(&nb.fe), "generators done");
	for (unsigned int i = 0; i < 3; i++)
		CHECK(bv(i)->st.drops[DROP_RX_STALLED] == 0, "vif%u: %lu false rx_stalled drops",
		      i, (unsigned long)bv(i)->st.drops[DROP_RX_STALLED]);
	CHECK(bv(2)->st.rx_ring_full > 0, "the ring was never full (the case tests nothing)");
	CHECK(fv(2)->st.rx_pkts == 6000 && fv(2)->st.verify_bad == 0 && fv(2)->st.order_bad == 0,
	      "vif2 got %lu of 6000 (%lu bad, %lu out of order)", (unsigned long)fv(2)->st.rx_pkts,
	      (unsigned long)fv(2)->st.verify_bad, (unsigned long)fv(2)->st.order_bad);
	world_down();
	return 0;
}

/* ---- MTU ------------------------------------------------------------------------ */

/*
 * One MTU world: vif0 sends @p sizes (gso: with a GSO extra) at MTU
 * @p mtu0 to vif1 (MTU 1500) and vif2 (MTU 9000), flooded (nobody learned
 * them). Checks what each received and what vif0 counted as too_big.
 */
static int
mtu_world(const char *mtu0, const char *sizes, unsigned int count, bool gso, uint64_t want1,
	  uint64_t want2, uint64_t too_big)
{
	conf_base();
	set("vif0", "guest", "1");
	set("vif0", "mode", "gen");
	set("vif0", "dst", "vif1");
	set("vif0", "mtu", mtu0);
	set("vif0", "sizes", sizes);
	set("vif0", "count", count == 2 ? "2" : "3");
	if (gso)
		set("vif0", "extra", "gso");
	set("vif1", "guest", "2");
	set("vif2", "guest", "3");
	set("vif2", "mtu", "9000");
	CHECK(world_up() == 0, "setup");
	CHECK(bv(1)->max_frame == 1522 && bv(2)->max_frame == 9022, "max frames %u %u",
	      bv(1)->max_frame, bv(2)->max_frame);
	for (unsigned int i = 0; i < 20000 && !fe_gen_done(&nb.fe); i++)
		step(1);
	settle();
	CHECK(fe_gen_done(&nb.fe), "generator done");
	CHECK(fv(1)->st.rx_pkts == want1 && fv(2)->st.rx_pkts == want2,
	      "mtu %s sizes %s: vif1 got %lu (want %lu), vif2 %lu (want %lu)", mtu0, sizes,
	      (unsigned long)fv(1)->st.rx_pkts, (unsigned long)want1,
	      (unsigned long)fv(2)->st.rx_pkts, (unsigned long)want2);
	CHECK(bv(0)->st.drops[DROP_TOO_BIG] == too_big, "too_big %lu, want %lu",
	      (unsigned long)bv(0)->st.drops[DROP_TOO_BIG], (unsigned long)too_big);
	/* Dropped above the MTU, not refused: the guest's slots were answered OKAY. */
	CHECK(fv(0)->st.tx_rsp_err == 0 && bv(0)->state == VIF_UP, "errors %lu",
	      (unsigned long)fv(0)->st.tx_rsp_err);
	world_down();
	return 0;
}

static int
test_mtu(void)
{
	/* At the source: 1523 B is above MTU 1500 + 22 and goes nowhere. */
	if (mtu_world("1500", "1522,1523,64", 3, false, 2, 2, 1) != 0)
		return -1;
	/* At a destination: 9000 B reaches the jumbo vif2 only; counted once at the source. */
	if (mtu_world("9000", "9000,64", 2, false, 1, 2, 1) != 0)
		return -1;
	/* GSO frames are not bound by the MTU (up to 64 KiB - 1, as Linux netback). */
	return mtu_world("1500", "9000,20000,64", 3, true, 3, 3, 0);
}

struct tcase {
	const char *name;
	int (*fn)(void);
};

/* ---- Buffer placement and reuse ------------------------------------------------ */

/* What one vif's slots showed: buffers used, each one's offset, distinct offsets. */
struct placement {
	bool used[UINT16_MAX + 1];
	int16_t off[UINT16_MAX + 1]; /* -1: not seen */
	bool off_seen[GNTDP_PAGE_SIZE];
	unsigned int nb_used, nb_offs, slots;
};

static struct placement tx_seen[2], rx_seen[2];

static void
placement_reset(void)
{
	memset(tx_seen, 0, sizeof(tx_seen));
	memset(rx_seen, 0, sizeof(rx_seen));
	for (unsigned int i = 0; i < 2; i++) {
		memset(tx_seen[i].off, 0xff, sizeof(tx_seen[i].off));
		memset(rx_seen[i].off, 0xff, sizeof(rx_seen[i].off));
	}
}

/* Record buffer @p id at @p off with @p size bytes; -1 when the slot breaks the rules. */
static int
placement_add(struct placement *p, uint16_t id, uint16_t off, uint32_t size)
{
	CHECK(off % 64 == 0 && (uint32_t)off + size <= GNTDP_PAGE_SIZE,
	      "buffer %u: offset %u + size %u", id, off, size);
	/* A frame up to 1536 bytes fits at any buffer's offset: the buffer's own, every time. */
	if (size <= 1536) {
		CHECK(p->off[id] < 0 || p->off[id] == off, "buffer %u at %d, then at %u", id,
		      p->off[id], off);
		p->off[id] = (int16_t)off;
	}
	if (!p->used[id])
		p->nb_used++;
	p->used[id] = true;
	if (!p->off_seen[off])
		p->nb_offs++;
	p->off_seen[off] = true;
	p->slots++;
	return 0;
}

/* TX requests vif @p i posted from @p from to its tx_prod, and RX responses it has not read. */
static int
placement_scan(unsigned int i, uint32_t from)
{
	struct fe_vif *v = fv(i);

	for (uint32_t k = from; k != v->tx_prod; k++) {
		struct gntdp_netif_tx_request r = v->tx->ring[GNTDP_NETIF_RING_SLOT(k)].req;

		if (placement_add(&tx_seen[i], r.id, r.offset, r.size) != 0)
			return -1;
	}
	for (uint32_t k = v->rx_cons; k != v->rx->hdr.rsp_prod; k++) {
		struct gntdp_netif_rx_response r = v->rx->ring[GNTDP_NETIF_RING_SLOT(k)].rsp;

		CHECK(r.status > 0, "vif%u RX status %d", i, r.status);
		if (placement_add(&rx_seen[i], r.id, r.offset, (uint32_t)r.status) != 0)
			return -1;
	}
	return 0;
}

/*
 * Issue 10's working set: the guests' buffers start at staggered offsets,
 * each its own, within the page (TX: the frontend's choice; RX: the
 * backend's, in the RX response), and TX buffers are reused LIFO: with 16
 * frames in flight out of a pool of a ring's worth, only 16 buffers are ever
 * used (a FIFO free list would cycle through all 256). Both directions
 * 1500-byte frames, vif0 through the generator's fast path and the express
 * lane, vif1 through the general generator (verified bytes at vif2).
 */
static int
test_buffers_lifo_staggered(void)
{
	const unsigned int depth = 16;
	char d[8];

	snprintf(d, sizeof(d), "%u", depth);
	conf_base();
	set("vif0", "guest", "1");
	set("vif0", "mode", "gen");
	set("vif0", "dst", "vif1");
	set("vif0", "sizes", "1500");
	set("vif0", "count", "3000");
	set("vif0", "depth", d);
	set("vif0", "rx_buffers", "32");
	set("vif1", "guest", "2");
	set("vif1", "mode", "gen");
	set("vif1", "dst", "vif2");
	set("vif1", "sizes", "1500,1400");
	set("vif1", "count", "3000");
	set("vif1", "depth", d);
	set("vif1", "verify", "on");
	set("vif1", "rx_buffers", "32");
	set("vif2", "guest", "3");
	set("vif2", "verify", "on");
	CHECK(world_up() == 0, "setup");
	placement_reset();
	for (unsigned int it = 0; it < 200000 && !fe_gen_done(&nb.fe); it++) {
		uint32_t from[2] = {fv(0)->tx_prod, fv(1)->tx_prod};

		be_step();
		for (unsigned int i = 0; i < 2; i++) {
			/* RX responses first (fe_vif_poll consumes them), then the new TX requests. */
			if (placement_scan(i, fv(i)->tx_prod) != 0)
				return -1;
			fe_vif_poll(fv(i));
			if (placement_scan(i, from[i]) != 0)
				return -1;
			from[i] = fv(i)->tx_prod;
		}
		fe_vif_poll(fv(2));
	}
	settle();
	CHECK(fe_gen_done(&nb.fe), "generators done: %lu, %lu", (unsigned long)fv(0)->sent,
	      (unsigned long)fv(1)->sent);
	/* vif1's frames intact; the rest are vif0's (unverifiable) flooded before learning. */
	CHECK(fv(2)->st.verify_ok == 3000 && fv(2)->st.order_bad == 0 &&
		      fv(2)->st.verify_bad == fv(2)->st.rx_pkts - 3000,
	      "vif2 verified %lu of %lu, bad %lu, out of order %lu",
	      (unsigned long)fv(2)->st.verify_ok, (unsigned long)fv(2)->st.rx_pkts,
	      (unsigned long)fv(2)->st.verify_bad, (unsigned long)fv(2)->st.order_bad);
	CHECK(fv(1)->st.rx_pkts == 3000, "vif1 received %lu", (unsigned long)fv(1)->st.rx_pkts);
	for (unsigned int i = 0; i < 2; i++) {
		CHECK(tx_seen[i].slots == 3000, "vif%u: %u TX slots seen", i, tx_seen[i].slots);
		CHECK(fv(i)->n_tx_bufs == GNTDP_NETIF_RING_SIZE, "vif%u pool %u", i,
		      fv(i)->n_tx_bufs);
		/* LIFO: never more buffers than frames in flight. */
		CHECK(tx_seen[i].nb_used == depth, "vif%u used %u TX buffers, %u in flight at most",
		      i, tx_seen[i].nb_used, depth);
		/* Staggered: 16 buffers over 41 positions; all at 0 before issue 10. */
		CHECK(tx_seen[i].nb_offs >= 8, "vif%u: %u distinct TX offsets", i,
		      tx_seen[i].nb_offs);
	}
	CHECK(rx_seen[1].slots == 3000, "vif1: %u RX slots seen", rx_seen[1].slots);
	CHECK(rx_seen[1].nb_used == 32 && rx_seen[1].nb_offs >= 12,
	      "vif1: %u RX buffers at %u distinct offsets", rx_seen[1].nb_used,
	      rx_seen[1].nb_offs);
	world_down();

	/* stagger = off and rx_stagger = off: every buffer at 0, as before. */
	conf_base();
	set("backend", "rx_stagger", "off");
	set("vif0", "guest", "1");
	set("vif0", "mode", "gen");
	set("vif0", "dst", "vif1");
	set("vif0", "sizes", "1500");
	set("vif0", "count", "500");
	set("vif0", "stagger", "off");
	set("vif1", "guest", "2");
	CHECK(world_up() == 0, "setup");
	placement_reset();
	for (unsigned int it = 0; it < 200000 && !fe_gen_done(&nb.fe); it++) {
		uint32_t from = fv(0)->tx_prod;

		be_step();
		if (placement_scan(1, fv(1)->tx_prod) != 0)
			return -1;
		fe_vif_poll(fv(1));
		fe_vif_poll(fv(0));
		if (placement_scan(0, from) != 0)
			return -1;
	}
	CHECK(tx_seen[0].slots == 500 && tx_seen[0].nb_offs == 1 && tx_seen[0].off_seen[0],
	      "stagger off: %u TX slots at %u offsets", tx_seen[0].slots, tx_seen[0].nb_offs);
	CHECK(rx_seen[1].slots == 500 && rx_seen[1].nb_offs == 1 && rx_seen[1].off_seen[0],
	      "rx_stagger off: %u RX slots at %u offsets", rx_seen[1].slots, rx_seen[1].nb_offs);
	world_down();

	/* inflight_bytes 3000: two 1500-byte frames in flight, so two buffers; 4000 B still go. */
	conf_base();
	set("vif0", "guest", "1");
	set("vif0", "mode", "gen");
	set("vif0", "dst", "vif1");
	set("vif0", "sizes", "1500,1500,4000");
	set("vif0", "count", "600");
	set("vif0", "inflight_bytes", "3000");
	set("vif1", "guest", "2");
	jumbo_vifs();
	CHECK(world_up() == 0, "setup");
	placement_reset();
	for (unsigned int it = 0; it < 200000 && !fe_gen_done(&nb.fe); it++) {
		uint32_t from = fv(0)->tx_prod;

		be_step();
		fe_vif_poll(fv(1));
		fe_vif_poll(fv(0));
		CHECK(fv(0)->tx_inflight_bytes <= 4000 && fv(0)->tx_inflight <= 2,
		      "%u bytes in %u slots in flight", fv(0)->tx_inflight_bytes, fv(0)->tx_inflight);
		if (placement_scan(0, from) != 0)
			return -1;
	}
	CHECK(fe_gen_done(&nb.fe) && fv(1)->st.rx_pkts == 600 && fv(0)->tx_inflight_bytes == 0,
	      "sent %lu, received %lu, %u bytes left in flight", (unsigned long)fv(0)->sent,
	      (unsigned long)fv(1)->st.rx_pkts, fv(0)->tx_inflight_bytes);
	CHECK(tx_seen[0].nb_used == 2, "inflight_bytes 3000: %u TX buffers used",
	      tx_seen[0].nb_used);
	return 0;
}

static const struct tcase cases[] = {
	{"g2g_direct", test_g2g_direct},
	{"g2g_staged", test_g2g_staged},
	{"g2g_xen_exact", test_g2g_xen_exact},
	{"express_verified", test_express_verified},
	{"mcast_ctrl", test_mcast_ctrl},
	{"rx_slots", test_rx_slots},
	{"notify", test_notify},
	{"bad_chain_beyond_prod", test_bad_chain_beyond_prod},
	{"bad_chain_21_slots", test_bad_chain_21_slots},
	{"slots_18_19", test_slots_18_19},
	{"oversized_slot", test_oversized_slot},
	{"oversized_frag", test_oversized_frag},
	{"runaway_req_prod", test_runaway_req_prod},
	{"runaway_rx_req_prod", test_runaway_rx_req_prod},
	{"bad_extra", test_bad_extra},
	{"bad_gso", test_bad_gso},
	{"runt_and_bad_size", test_runt_and_bad_size},
	{"bad_gref_drop", test_bad_gref_drop},
	{"bad_gref_drop_later_slot", test_bad_gref_drop_later_slot},
	{"bad_gref_disable", test_bad_gref_disable},
	{"bad_gref_disable_later_slot", test_bad_gref_disable_later_slot},
	{"rx_bad_gref", test_rx_bad_gref},
	{"rx_bad_gref_disable", test_rx_bad_gref_disable},
	{"hold_bound_idle", test_hold_bound_idle},
	{"hold_bound_busy", test_hold_bound_busy},
	{"hold_bound_hot", test_hold_bound_hot},
	{"copy_kernel_name", test_copy_kernel_name},
	{"rx_wait_not_stall", test_rx_wait_not_stall},
	{"tight_rx_no_false_drop", test_tight_rx_no_false_drop},
	{"mtu", test_mtu},
	{"buffers_lifo_staggered", test_buffers_lifo_staggered},
};

static unsigned long
free_hugepages(void)
{
	char line[256];
	unsigned long n = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "HugePages_Free:", 15) == 0)
			n = strtoul(line + 15, NULL, 10);
	}
	fclose(f);
	return n;
}

int
main(int argc, char **argv)
{
	static char prefix[64];
	struct gntdp_dp_eal_conf ec;
	char *eargv[8];
	int eargc = 0, rc, ran = 0;
	const char *only = argc > 2 ? argv[2] : NULL;

	if (argc < 2) {
		fprintf(stderr, "usage: %s huge|nohuge [case]\n", argv[0]);
		return 1;
	}
	gntdp_dp_eal_conf_init(&ec);
	ec.no_huge_mb = 512;
	ec.signals = false;
	if (strcmp(argv[1], "huge") == 0) {
		if (free_hugepages() < 64 || getenv("GNTDP_NO_HUGE") != NULL) {
			printf("SKIP: needs 64 free hugepages (or GNTDP_NO_HUGE is set)\n");
			return SKIP;
		}
		ec.huge = GNTDP_DP_HUGE_ON;
	} else {
		ec.huge = GNTDP_DP_HUGE_OFF;
	}
	snprintf(prefix, sizeof(prefix), "--file-prefix=nb_unit_%s", argv[1]);
	eargv[eargc++] = argv[0];
	eargv[eargc++] = prefix;
	eargv[eargc++] = (char *)(uintptr_t)"-l0";
	eargv[eargc++] = (char *)(uintptr_t)"--no-pci";
	eargv[eargc++] = (char *)(uintptr_t)"--no-telemetry";
	eargv[eargc++] = (char *)(uintptr_t)"--log-level=lib.*:warning";
	eargv[eargc] = NULL;
	rc = gntdp_dp_eal_init(&ec, eargc, eargv);
	if (rc < 0) {
		printf("SKIP: EAL cannot start here (%s)\n", strerror(-rc));
		return SKIP;
	}
	for (size_t i = 0; i < NELEM(cases); i++) {
		int f0 = failures;

		if (only != NULL && strcmp(only, cases[i].name) != 0)
			continue;
		ran++;
		if (cases[i].fn() != 0 && failures == f0)
			failures++;
		if (nb.gt != NULL)
			world_down();
		printf("%s %s\n", failures == f0 ? "ok  " : "FAIL", cases[i].name);
	}
	gntdp_dp_eal_cleanup();
	if (ran == 0) {
		printf("no case named %s\n", only);
		return 1;
	}
	printf("%d case(s), %d failure(s)\n", ran, failures);
	return failures ? 1 : 0;
}
