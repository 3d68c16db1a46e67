/* SPDX-License-Identifier: MIT */
/*
 * The world builder and the op wrappers. Every world is put on a registry
 * so the runner can destroy it after the case, whichever assertion ended
 * the case: without that, each early return would need its own cleanup and
 * LeakSanitizer would report leaks that are only the test's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcommon.h"

static struct tw *registry;

static void
log_capture(void *arg, enum gntdp_log_level level, const char *line)
{
	struct tw *w = arg;
	size_t n = strlen(line);

	(void)level;
	if (w->log_len + n + 2 > w->log_cap) {
		size_t cap = w->log_cap ? w->log_cap : 4096;
		char *p;

		while (w->log_len + n + 2 > cap)
			cap *= 2;
		p = realloc(w->log, cap);
		if (p == NULL)
			return;
		w->log = p;
		w->log_cap = cap;
	}
	memcpy(w->log + w->log_len, line, n);
	w->log_len += n;
	w->log[w->log_len++] = '\n';
	w->log[w->log_len] = '\0';
	w->log_lines++;
}

void
tw_log_clear(struct tw *w)
{
	w->log_len = 0;
	w->log_lines = 0;
	if (w->log != NULL)
		w->log[0] = '\0';
}

struct tw *
tw_create_ex(const struct gntdp_mem_ops *mem, unsigned int max_ctx)
{
	struct gntdp_gnttab_conf conf;
	struct tw *w;
	int rc;

	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		tc_fail(__FILE__, __LINE__, "calloc(world)", "NULL", "memory");
		return NULL;
	}
	gntdp_gnttab_conf_init(&conf);
	if (mem != NULL)
		conf.mem = mem;
	if (max_ctx != 0)
		conf.max_ctx = max_ctx;
	conf.log = log_capture;
	conf.log_arg = w;
	rc = gntdp_gnttab_create(&conf, &w->gt);
	if (rc != 0) {
		tc_fail_ll(__FILE__, __LINE__, "gntdp_gnttab_create()", rc, 0);
		free(w);
		return NULL;
	}
	rc = gntdp_gnttab_ctx_create(w->gt, NULL, &w->ctx);
	if (rc != 0) {
		tc_fail_ll(__FILE__, __LINE__, "gntdp_gnttab_ctx_create()", rc, 0);
		gntdp_gnttab_destroy(w->gt);
		free(w);
		return NULL;
	}
	w->next = registry;
	registry = w;
	return w;
}

struct tw *
tw_create(const struct gntdp_mem_ops *mem)
{
	return tw_create_ex(mem, 0);
}

struct tw *
tw_std(void)
{
	struct gntdp_domain_conf c;
	struct tw *w = tw_create(NULL);

	if (w == NULL)
		return NULL;
	c = tw_dom_conf(D0);
	c.privileged = true;
	if (tw_add_conf(w, &c) != 0 || tw_add(w, DA) != 0 || tw_add(w, DB) != 0 ||
	    tw_add(w, DC) != 0) {
		tc_fail(__FILE__, __LINE__, "tw_std(): gntdp_domain_create()", "error", "0");
		tw_destroy(w);
		return NULL;
	}
	return w;
}

void
tw_destroy(struct tw *w)
{
	struct tw **pp;

	if (w == NULL)
		return;
	for (pp = &registry; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	gntdp_gnttab_ctx_destroy(w->ctx);
	gntdp_gnttab_destroy(w->gt);
	free(w->log);
	free(w);
}

void
tw_cleanup_all(void)
{
	while (registry != NULL)
		tw_destroy(registry);
}

struct gntdp_domain_conf
tw_dom_conf(gntdp_domid_t id)
{
	struct gntdp_domain_conf c;

	gntdp_domain_conf_init(&c);
	c.domid = id;
	return c;
}

int
tw_add_conf(struct tw *w, const struct gntdp_domain_conf *conf)
{
	return gntdp_domain_create(w->gt, conf);
}

int
tw_add(struct tw *w, gntdp_domid_t id)
{
	struct gntdp_domain_conf c = tw_dom_conf(id);

	return tw_add_conf(w, &c);
}

struct gntdp_grant_entry_v1 *
tw_ent(struct tw *w, gntdp_domid_t dom, gntdp_grant_ref_t ref)
{
	struct gntdp_grant_entry_v1 *e;
	uint32_t n;

	if (gntdp_guest_table(w->gt, dom, &e, &n) != 0 || ref >= n)
		return NULL;
	return &e[ref];
}

uint16_t
tw_flags(struct tw *w, gntdp_domid_t dom, gntdp_grant_ref_t ref)
{
	struct gntdp_grant_entry_v1 *e = tw_ent(w, dom, ref);

	return e != NULL ? __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) : 0xffff;
}

uint32_t
tw_nr_entries(struct tw *w, gntdp_domid_t dom)
{
	struct gntdp_grant_entry_v1 *e;
	uint32_t n;

	if (gntdp_guest_table(w->gt, dom, &e, &n) != 0)
		return 0;
	return n;
}

int
tw_grant(struct tw *w, gntdp_domid_t granter, gntdp_grant_ref_t ref, gntdp_domid_t grantee,
	 uint32_t gfn, bool readonly)
{
	struct gntdp_grant_entry_v1 *e = tw_ent(w, granter, ref);

	if (e == NULL)
		return -ENOENT;
	return gntdp_guest_grant_access(e, grantee, gfn, readonly);
}

void
tw_set_entry(struct tw *w, gntdp_domid_t dom, gntdp_grant_ref_t ref, uint16_t flags,
	     gntdp_domid_t domid, uint32_t frame)
{
	struct gntdp_grant_entry_v1 *e = tw_ent(w, dom, ref);

	if (e == NULL)
		return;
	e->domid = domid;
	e->frame = frame;
	__atomic_store_n(&e->flags, flags, __ATOMIC_RELEASE);
}

uint8_t *
tw_frame(struct tw *w, gntdp_domid_t dom, uint64_t gfn)
{
	return gntdp_domain_frame(w->gt, dom, gfn);
}

uint64_t
tw_va(struct tw *w, gntdp_domid_t dom, uint64_t gfn)
{
	return (uint64_t)(uintptr_t)tw_frame(w, dom, gfn);
}

uint8_t
tw_pat(uint8_t seed, unsigned int off)
{
	/* Period 4096 (not 256) so that off-by-256 copies are caught too. */
	return (uint8_t)(seed ^ (off * 7u) ^ (off >> 8) * 13u);
}

void
tw_fill(struct tw *w, gntdp_domid_t dom, uint64_t gfn, uint8_t seed)
{
	uint8_t *p = tw_frame(w, dom, gfn);

	if (p == NULL)
		return;
	for (unsigned int i = 0; i < GNTDP_PAGE_SIZE; i++)
		p[i] = tw_pat(seed, i);
}

void
tw_memset(struct tw *w, gntdp_domid_t dom, uint64_t gfn, uint8_t val)
{
	uint8_t *p = tw_frame(w, dom, gfn);

	if (p != NULL)
		memset(p, val, GNTDP_PAGE_SIZE);
}

bool
tw_has_pat(struct tw *w, gntdp_domid_t dom, uint64_t gfn, unsigned int off, unsigned int n,
	   uint8_t seed, unsigned int pat_off)
{
	const uint8_t *p = tw_frame(w, dom, gfn);

	if (p == NULL || off + n > GNTDP_PAGE_SIZE)
		return false;
	for (unsigned int i = 0; i < n; i++) {
		if (p[off + i] != tw_pat(seed, pat_off + i))
			return false;
	}
	return true;
}

bool
tw_all(struct tw *w, gntdp_domid_t dom, uint64_t gfn, unsigned int off, unsigned int n, uint8_t val)
{
	const uint8_t *p = tw_frame(w, dom, gfn);

	if (p == NULL || off + n > GNTDP_PAGE_SIZE)
		return false;
	for (unsigned int i = 0; i < n; i++) {
		if (p[off + i] != val)
			return false;
	}
	return true;
}

struct gntdp_domain_info
tw_info(struct tw *w, gntdp_domid_t dom)
{
	struct gntdp_domain_info info;

	memset(&info, 0, sizeof(info));
	if (gntdp_domain_info(w->gt, dom, &info) != 0) {
		memset(&info, 0, sizeof(info));
		info.dying = true;
	}
	return info;
}

int
tw_op(struct tw *w, gntdp_domid_t caller, unsigned int cmd, void *ops, unsigned int count)
{
	w->last_rc = gntdp_gnttab_op(w->ctx, caller, cmd, ops, count);
	return w->last_rc;
}

struct gntdp_gnttab_map_grant_ref
tw_map_op(gntdp_domid_t dom, gntdp_grant_ref_t ref, uint32_t flags, uint64_t host_gfn)
{
	struct gntdp_gnttab_map_grant_ref op;

	memset(&op, 0, sizeof(op));
	op.host_addr = host_gfn << GNTDP_PAGE_SHIFT;
	op.flags = flags;
	op.ref = ref;
	op.dom = dom;
	op.status = TW_UNSET;
	op.handle = TW_HANDLE_SENTINEL;
	op.dev_bus_addr = TW_DEV_SENTINEL;
	return op;
}

int16_t
tw_map(struct tw *w, gntdp_domid_t caller, gntdp_domid_t dom, gntdp_grant_ref_t ref, uint32_t flags,
       uint64_t host_gfn, uint32_t *handle, uint64_t *dev)
{
	struct gntdp_gnttab_map_grant_ref op = tw_map_op(dom, ref, flags, host_gfn);

	if (tw_op(w, caller, GNTDP_GNTTABOP_MAP_GRANT_REF, &op, 1) != 0)
		return TW_CALL_FAILED;
	if (handle != NULL)
		*handle = op.handle;
	if (dev != NULL)
		*dev = op.dev_bus_addr;
	return op.status;
}

struct gntdp_gnttab_unmap_grant_ref
tw_unmap_op(uint32_t handle, uint64_t host_addr, uint64_t dev_bus_addr)
{
	struct gntdp_gnttab_unmap_grant_ref op;

	memset(&op, 0, sizeof(op));
	op.host_addr = host_addr;
	op.dev_bus_addr = dev_bus_addr;
	op.handle = handle;
	op.status = TW_UNSET;
	return op;
}

int16_t
tw_unmap(struct tw *w, gntdp_domid_t caller, uint32_t handle, uint64_t host_addr,
	 uint64_t dev_bus_addr)
{
	struct gntdp_gnttab_unmap_grant_ref op = tw_unmap_op(handle, host_addr, dev_bus_addr);

	if (tw_op(w, caller, GNTDP_GNTTABOP_UNMAP_GRANT_REF, &op, 1) != 0)
		return TW_CALL_FAILED;
	return op.status;
}

struct tw_side
tw_ref(gntdp_domid_t dom, gntdp_grant_ref_t ref, uint16_t offset)
{
	struct tw_side s;

	memset(&s, 0, sizeof(s));
	s.p.u.ref = ref;
	s.p.domid = dom;
	s.p.offset = offset;
	s.gref = true;
	return s;
}

struct tw_side
tw_gfn(gntdp_domid_t dom, uint64_t gfn, uint16_t offset)
{
	struct tw_side s;

	memset(&s, 0, sizeof(s));
	s.p.u.gmfn = gfn;
	s.p.domid = dom;
	s.p.offset = offset;
	s.gref = false;
	return s;
}

struct gntdp_gnttab_copy
tw_copy_op(struct tw_side src, struct tw_side dst, uint16_t len)
{
	struct gntdp_gnttab_copy op;

	memset(&op, 0, sizeof(op));
	op.source = src.p;
	op.dest = dst.p;
	op.len = len;
	op.flags = (uint16_t)((src.gref ? GNTDP_GNTCOPY_SOURCE_GREF : 0) |
			      (dst.gref ? GNTDP_GNTCOPY_DEST_GREF : 0));
	op.status = TW_UNSET;
	return op;
}

int16_t
tw_copy(struct tw *w, gntdp_domid_t caller, struct tw_side src, struct tw_side dst, uint16_t len)
{
	struct gntdp_gnttab_copy op = tw_copy_op(src, dst, len);

	if (tw_op(w, caller, GNTDP_GNTTABOP_COPY, &op, 1) != 0)
		return TW_CALL_FAILED;
	return op.status;
}

int16_t
tw_transfer(struct tw *w, gntdp_domid_t caller, uint64_t gfn, gntdp_domid_t receiver,
	    gntdp_grant_ref_t ref)
{
	struct gntdp_gnttab_transfer op;

	memset(&op, 0, sizeof(op));
	op.mfn = gfn;
	op.domid = receiver;
	op.ref = ref;
	op.status = TW_UNSET;
	if (tw_op(w, caller, GNTDP_GNTTABOP_TRANSFER, &op, 1) != 0)
		return TW_CALL_FAILED;
	return op.status;
}

int16_t
tw_setup(struct tw *w, gntdp_domid_t caller, gntdp_domid_t dom, uint32_t nr_frames,
	 gntdp_xen_pfn_t *frame_list)
{
	struct gntdp_gnttab_setup_table op;

	memset(&op, 0, sizeof(op));
	op.dom = dom;
	op.nr_frames = nr_frames;
	op.frame_list = frame_list;
	op.status = TW_UNSET;
	if (tw_op(w, caller, GNTDP_GNTTABOP_SETUP_TABLE, &op, 1) != 0)
		return TW_CALL_FAILED;
	return op.status;
}

int16_t
tw_query(struct tw *w, gntdp_domid_t caller, gntdp_domid_t dom, uint32_t *nr, uint32_t *max)
{
	struct gntdp_gnttab_query_size op;

	memset(&op, 0, sizeof(op));
	op.dom = dom;
	op.nr_frames = 0xeeeeeeee;
	op.max_nr_frames = 0xeeeeeeee;
	op.status = TW_UNSET;
	if (tw_op(w, caller, GNTDP_GNTTABOP_QUERY_SIZE, &op, 1) != 0)
		return TW_CALL_FAILED;
	if (nr != NULL)
		*nr = op.nr_frames;
	if (max != NULL)
		*max = op.max_nr_frames;
	return op.status;
}

int16_t
tw_dump(struct tw *w, gntdp_domid_t caller, gntdp_domid_t dom)
{
	struct gntdp_gnttab_dump_table op;

	memset(&op, 0, sizeof(op));
	op.dom = dom;
	op.status = TW_UNSET;
	if (tw_op(w, caller, GNTDP_GNTTABOP_DUMP_TABLE, &op, 1) != 0)
		return TW_CALL_FAILED;
	return op.status;
}

uint64_t
tw_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}
