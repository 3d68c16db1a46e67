/* SPDX-License-Identifier: MIT */
/* Helpers shared by the data-plane tests; see dp_common.h. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dp_common.h"

/* Free default-size hugepages according to /proc/meminfo (0 when unknown). */
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
dp_test_eal(const char *name, int argc, char **argv)
{
	static char prefix[96], lcores[96];
	struct gntdp_dp_eal_conf ec;
	char *eargv[16];
	int eargc = 0, rc;

	if (argc < 3) {
		fprintf(stderr, "usage: %s huge|nohuge <lcores>\n", argv[0]);
		return 1;
	}
	gntdp_dp_eal_conf_init(&ec);
	ec.no_huge_mb = 512;
	ec.signals = false;
	if (strcmp(argv[1], "huge") == 0) {
		if (free_hugepages() < 64) {
			printf("SKIP: %s needs hugepages and fewer than 64 are free\n", name);
			return TEST_SKIP;
		}
		ec.huge = GNTDP_DP_HUGE_ON;
	} else if (strcmp(argv[1], "nohuge") == 0) {
		ec.huge = GNTDP_DP_HUGE_OFF;
	} else {
		fprintf(stderr, "unknown variant %s\n", argv[1]);
		return 1;
	}
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s_%s", name, argv[1]);
	if (strncmp(argv[2], "lcores:", 7) == 0)
		snprintf(lcores, sizeof(lcores), "--lcores=%s", argv[2] + 7);
	else
		snprintf(lcores, sizeof(lcores), "-l%s", argv[2]);
	eargv[eargc++] = argv[0];
	eargv[eargc++] = prefix;
	eargv[eargc++] = lcores;
	eargv[eargc++] = (char *)(uintptr_t)"--no-pci";
	eargv[eargc++] = (char *)(uintptr_t)"--log-level=lib.*:warning";
	eargv[eargc] = NULL;
	rc = gntdp_dp_eal_init(&ec, eargc, eargv);
	if (rc < 0) {
		printf("SKIP: %s: EAL init failed (%s): not enough resources for DPDK here\n", name,
		       strerror(-rc));
		return TEST_SKIP;
	}
	printf("%s: EAL up (%s, lcores %s)\n", name,
	       gntdp_dp_eal_hugepages() ? "hugepages" : "--no-huge", argv[2]);
	return 0;
}

int
dp_test_world(struct test_world *w)
{
	struct gntdp_gnttab_conf gc;
	struct gntdp_domain_conf dc;
	const gntdp_domid_t doms[] = { DOM_CLIENT, DOM_GRANTER, DOM_CLIENT2 };
	unsigned int i;
	int rc;

	memset(w, 0, sizeof(*w));
	w->mem = gntdp_dp_mem_ops(-1);
	gntdp_gnttab_conf_init(&gc);
	gc.mem = &w->mem;
	rc = gntdp_gnttab_create(&gc, &w->gt);
	if (rc != 0)
		return rc;
	for (i = 0; i < sizeof(doms) / sizeof(doms[0]); i++) {
		gntdp_domain_conf_init(&dc);
		dc.domid = doms[i];
		dc.nr_frames = WORLD_FRAMES;
		dc.p2m_size = WORLD_FRAMES + 256;
		rc = gntdp_domain_create(w->gt, &dc);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void
dp_test_world_destroy(struct test_world *w)
{
	gntdp_gnttab_destroy(w->gt);
	w->gt = NULL;
}

struct gntdp_grant_entry_v1 *
dp_test_entry(struct gntdp_gnttab *gt, gntdp_domid_t domid, uint32_t ref)
{
	struct gntdp_grant_entry_v1 *e;
	uint32_t n;

	if (gntdp_guest_table(gt, domid, &e, &n) != 0 || ref >= n)
		return NULL;
	return &e[ref];
}

int
dp_test_grant(struct gntdp_gnttab *gt, gntdp_domid_t granter, uint32_t ref, gntdp_domid_t grantee,
	      uint32_t frame, bool readonly)
{
	struct gntdp_grant_entry_v1 *e = dp_test_entry(gt, granter, ref);

	if (e == NULL)
		return -EINVAL;
	return gntdp_guest_grant_access(e, grantee, frame, readonly);
}

void
dp_copy_to_gref(struct gntdp_gnttab_copy *op, uint64_t gfn, uint16_t soff, gntdp_domid_t ddom,
		uint32_t dref, uint16_t doff, uint16_t len)
{
	memset(op, 0, sizeof(*op));
	op->source.u.gmfn = gfn;
	op->source.domid = GNTDP_DOMID_SELF;
	op->source.offset = soff;
	op->dest.u.ref = dref;
	op->dest.domid = ddom;
	op->dest.offset = doff;
	op->len = len;
	op->flags = GNTDP_GNTCOPY_DEST_GREF;
	op->status = DP_UNSET;
}

void
dp_copy_from_gref(struct gntdp_gnttab_copy *op, gntdp_domid_t sdom, uint32_t sref, uint16_t soff,
		  uint64_t gfn, uint16_t doff, uint16_t len)
{
	memset(op, 0, sizeof(*op));
	op->source.u.ref = sref;
	op->source.domid = sdom;
	op->source.offset = soff;
	op->dest.u.gmfn = gfn;
	op->dest.domid = GNTDP_DOMID_SELF;
	op->dest.offset = doff;
	op->len = len;
	op->flags = GNTDP_GNTCOPY_SOURCE_GREF;
	op->status = DP_UNSET;
}

int16_t
dp_op_status(unsigned int cmd, const void *ops, unsigned int i)
{
	int off = gntdp_hcall_status_offset(cmd);
	int16_t st;

	if (off < 0)
		return INT16_MIN;
	memcpy(&st, (const uint8_t *)ops + (size_t)i * gntdp_hcall_op_size(cmd) + (size_t)off,
	       sizeof(st));
	return st;
}

void
dp_ring_conf_init(struct dp_ring_conf *c, gntdp_domid_t dom)
{
	memset(c, 0, sizeof(*c));
	gntdp_dp_hcall_conf_init(&c->hc);
	c->hc.domid = dom;
	c->area_gfn = DP_AREA_GFN;
	c->area_frames = 8;
	c->slot_bytes = 4096;
}

int
dp_ring_create(struct gntdp_dp *dp, struct gntdp_gnttab *gt, const struct dp_ring_conf *c,
	       struct dp_ring *out)
{
	void *va = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (c->slot_bytes == 0 || c->area_frames == 0 ||
	    c->slot_bytes > (size_t)c->area_frames * 4096u)
		return -EINVAL;
	rc = gntdp_domain_populate(gt, c->hc.domid, c->area_gfn, c->area_frames, &va);
	if (rc != 0)
		return rc;
	rc = gntdp_dp_hcall_create(dp, &c->hc, &out->r);
	if (rc != 0) {
		gntdp_domain_depopulate(gt, c->hc.domid, c->area_gfn, c->area_frames);
		return rc;
	}
	out->gt = gt;
	out->dom = c->hc.domid;
	out->area_gfn = c->area_gfn;
	out->area_frames = c->area_frames;
	out->area = va;
	out->slot_bytes = c->slot_bytes;
	out->nb_slots = (unsigned int)((size_t)c->area_frames * 4096u / c->slot_bytes);
	return 0;
}

int
dp_ring_destroy(struct gntdp_dp *dp, struct dp_ring *r)
{
	int rc;

	if (r->r == NULL)
		return 0;
	rc = gntdp_dp_hcall_destroy(dp, r->r);
	if (rc != 0)
		return rc;
	r->r = NULL;
	return gntdp_domain_depopulate(r->gt, r->dom, r->area_gfn, r->area_frames);
}

uint64_t
dp_ring_ga(const struct dp_ring *r, unsigned int slot)
{
	return ((uint64_t)r->area_gfn << 12) + (uint64_t)(slot % r->nb_slots) * r->slot_bytes;
}

void *
dp_ring_ops(const struct dp_ring *r, unsigned int slot)
{
	return r->area + (size_t)(slot % r->nb_slots) * r->slot_bytes;
}

unsigned int
dp_ring_post(struct dp_ring *r, unsigned int slot, unsigned int cmd, const void *ops,
	     unsigned int count, uint64_t user_data)
{
	struct gntdp_hcall_sqe s;

	if (ops != NULL)
		memcpy(dp_ring_ops(r, slot), ops, (size_t)count * gntdp_hcall_op_size(cmd));
	memset(&s, 0, sizeof(s));
	s.user_data = user_data;
	s.gaddr = dp_ring_ga(r, slot);
	s.cmd = cmd;
	s.count = count;
	return gntdp_dp_hcall_submit_burst(r->r, &s, 1);
}

unsigned int
dp_ring_drain(struct dp_ring *r, struct gntdp_hcall_cqe *c, unsigned int n, unsigned int timeout_ms)
{
	uint64_t end = dp_now_ms() + timeout_ms;
	unsigned int have = 0;

	while (have < n) {
		unsigned int k = gntdp_dp_hcall_reap_burst(r->r, c + have, n - have);

		have += k;
		if (k == 0 && dp_now_ms() > end)
			break;
	}
	return have;
}

int
dp_ring_call(struct dp_ring *r, unsigned int cmd, void *ops, unsigned int count, uint64_t user_data,
	     int32_t *rc)
{
	struct gntdp_hcall_cqe c;
	size_t len = (size_t)count * gntdp_hcall_op_size(cmd);

	if (len > r->slot_bytes)
		return -EINVAL;
	if (dp_ring_post(r, 0, cmd, ops, count, user_data) != 1)
		return -EAGAIN;
	if (dp_ring_drain(r, &c, 1, 10000) != 1)
		return -ETIMEDOUT;
	if (c.user_data != user_data)
		return -EPROTO;
	memcpy(ops, dp_ring_ops(r, 0), len);
	*rc = c.rc;
	return 0;
}

uint64_t
dp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int
dp_test_finish(struct gntdp_dp *dp, struct test_world *w, int rc)
{
	gntdp_dp_destroy(dp);
	if (w != NULL && w->gt != NULL)
		dp_test_world_destroy(w);
	gntdp_dp_eal_cleanup();
	return rc;
}
