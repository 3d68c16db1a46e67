/* SPDX-License-Identifier: MIT */
/*
 * Judging outcomes: the per-command status sets of spec section 14,
 * world-independent device addresses, guest and control actions, handle
 * translation for replays, comparing two worlds and the drained-world
 * invariants. Records become hypercalls in hcall.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "stress.h"

/* Frame allocations of a live domain: RAM, grant frames, v2 status frames (gnttab.h). */
#define ALLOCS_PER_DOM 3u

struct violation_log g_viol;
uint64_t g_seed;

void
violation(const char *sig, const char *fmt, ...)
{
	char buf[480];
	va_list ap;
	unsigned int n;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	n = atomic_fetch_add(&g_viol.count, 1);
	if (n == 0) {
		snprintf(g_viol.first, sizeof(g_viol.first), "[%s] %s", sig, buf);
		snprintf(g_viol.sig, sizeof(g_viol.sig), "%s", sig);
	}
	if (atomic_load_explicit(&g_viol.quiet, memory_order_relaxed))
		return;
	if (n < 20)
		fprintf(stderr, "gntdp-stress: VIOLATION [%s] %s (seed %llu)\n", sig, buf,
			(unsigned long long)g_seed);
	else if (n == 20)
		fprintf(stderr, "gntdp-stress: further violations not printed\n");
}

/* ---- Status sets ---------------------------------------------------------- */

uint32_t
spec_mask(uint8_t cmd)
{
	switch (cmd) {
	case GNTDP_GNTTABOP_COPY:
		return M_OKAY | M_GENERAL | M_BAD_DOMAIN | M_BAD_GNTREF | M_PERM | M_BAD_PAGE |
		       M_BAD_COPY_ARG;
	case GNTDP_GNTTABOP_MAP_GRANT_REF:
		return M_OKAY | M_GENERAL | M_BAD_DOMAIN | M_BAD_GNTREF | M_BAD_PAGE | M_NO_SPACE;
	case GNTDP_GNTTABOP_UNMAP_GRANT_REF:
		return M_OKAY | M_GENERAL | M_BAD_HANDLE | M_BAD_DEV_ADDR;
	case GNTDP_GNTTABOP_SETUP_TABLE:
		return M_OKAY | M_GENERAL | M_BAD_DOMAIN | M_PERM;
	case GNTDP_GNTTABOP_QUERY_SIZE:
	case GNTDP_GNTTABOP_DUMP_TABLE:
		return M_OKAY | M_BAD_DOMAIN | M_PERM;
	case GNTDP_GNTTABOP_TRANSFER:
		return M_OKAY | M_GENERAL | M_BAD_DOMAIN | M_BAD_PAGE;
	case GNTDP_GNTTABOP_UNMAP_AND_REPLACE:
		return M_OKAY | M_GENERAL | M_BAD_HANDLE;
	case GNTDP_GNTTABOP_GET_STATUS_FRAMES:
		return M_OKAY | M_GENERAL | M_BAD_DOMAIN | M_PERM | M_BAD_VIRT;
	case GNTDP_GNTTABOP_SWAP_GRANT_REF:
		return M_OKAY | M_BAD_GNTREF | M_EAGAIN;
	/* No status of their own: the rc is the result (a refused call reads general_error,
	 * or bad_domain for -ESRCH, gntdp/dataplane.h). */
	case GNTDP_GNTTABOP_SET_VERSION:
	case GNTDP_GNTTABOP_CACHE_FLUSH:
		return M_OKAY | M_GENERAL;
	case GNTDP_GNTTABOP_GET_VERSION:
		return M_OKAY | M_GENERAL | M_BAD_DOMAIN;
	default:
		return 0;
	}
}

bool
mask_allows(uint32_t mask, int16_t status, int32_t rc)
{
	uint32_t rcbit;

	if (status > 0 || status <= -GNTDP_GNTST_COUNT)
		return false;
	switch (rc) {
	case 0:
		rcbit = RC_OK;
		break;
	case -ESRCH:
		rcbit = RC_ESRCH;
		break;
	case -EINVAL:
		rcbit = RC_EINVAL;
		break;
	case -ENOSYS:
		rcbit = RC_ENOSYS;
		break;
	case -EFAULT:
		rcbit = RC_EFAULT;
		break;
	case -EBUSY:
		rcbit = RC_EBUSY;
		break;
	case -EAGAIN:
		rcbit = RC_EAGAIN;
		break;
	case -ERANGE:
		rcbit = RC_ERANGE;
		break;
	case -EPERM:
		rcbit = RC_EPERM;
		break;
	case -EOPNOTSUPP:
		rcbit = RC_EOPNOTSUPP;
		break;
	case -EILSEQ:
		rcbit = RC_EILSEQ;
		break;
	default:
		return false;
	}
	return (mask & rcbit) != 0 && (mask & ST(status)) != 0;
}

void
mask_str(uint32_t mask, char *buf, size_t len)
{
	size_t k = 0;

	buf[0] = '\0';
	for (int i = 0; i < GNTDP_GNTST_COUNT && k < len; i++) {
		if (mask & (1u << i))
			k += (size_t)snprintf(buf + k, len - k, "%s%s", k ? "|" : "",
					      gntdp_gntst_name((int16_t)-i) + 6);
	}
	if (k < len && (mask & ~(RC_OK | M_STATUS_ALL)) != 0) {
		static const char *const rcn[] = {"0",	    "-ESRCH",  "-EINVAL", "-ENOSYS",
						  "-EFAULT", "-EBUSY",  "-EAGAIN", "-ERANGE",
						  "-EPERM",  "-EOPNOTSUPP", "-EILSEQ"};

		k += (size_t)snprintf(buf + k, len - k, " rc:");
		for (unsigned int b = 0; b < sizeof(rcn) / sizeof(rcn[0]) && k < len; b++) {
			if (mask & (1u << (16 + b)))
				k += (size_t)snprintf(buf + k, len - k, "%s ", rcn[b]);
		}
	}
}

static const char *const kind_names[K_COUNT] = {
	[K_NONE] = "none",
	[K_CP_L2S] = "copy local->stable",
	[K_CP_S2L] = "copy stable->local",
	[K_CP_S2S] = "copy stable->stable",
	[K_CP_L2L] = "copy local->local",
	[K_CP_CHURN_SRC] = "copy churn->scratch",
	[K_CP_CHURN_DST] = "copy local->churn",
	[K_CP_VICTIM] = "copy victim",
	[K_CP_CORRUPT] = "copy corrupt-zone",
	[K_CP_BAD_DOMAIN] = "copy bad domain",
	[K_CP_BAD_REF] = "copy bad ref",
	[K_CP_CROSS] = "copy page crossing",
	[K_CP_RO_DEST] = "copy read-only dest",
	[K_CP_WRONG_GRANTEE] = "copy wrong grantee",
	[K_CP_FOREIGN_FRAME] = "copy foreign frame",
	[K_CP_LEN0] = "copy len 0 garbage",
	[K_CP_BAD_GMFN] = "copy bad gmfn",
	[K_CP_INVALID_ENTRY] = "copy invalid entry",
	[K_CP_BAD_PAGE] = "copy missing frame",
	[K_MP_STABLE] = "map stable",
	[K_MP_CHURN] = "map churn",
	[K_MP_VICTIM] = "map victim",
	[K_MP_CORRUPT] = "map corrupt-zone",
	[K_MP_SAT] = "map pin saturation",
	[K_MP_NOFLAGS] = "map no flags",
	[K_MP_BAD_DOMAIN] = "map bad domain",
	[K_MP_BAD_REF] = "map bad ref",
	[K_MP_RO_WRITABLE] = "map writable of read-only",
	[K_MP_WRONG_GRANTEE] = "map wrong grantee",
	[K_MP_APP_MAP] = "map PTE flags",
	[K_MP_GFN_BUSY] = "map onto busy gfn",
	[K_MP_BAD_PAGE] = "map missing frame",
	[K_MP_PRESSURE] = "map maptrack pressure",
	[K_UM_VALID] = "unmap",
	[K_UM_PARTIAL] = "unmap one part",
	[K_UM_ZERO] = "unmap no-op",
	[K_UM_BAD_HOST] = "unmap wrong host_addr",
	[K_UM_BAD_DEV] = "unmap wrong dev_bus_addr",
	[K_UM_STALE] = "unmap stale handle",
	[K_UM_DOUBLE] = "unmap twice",
	[K_ST_SELF] = "setup_table self",
	[K_ST_TOO_BIG] = "setup_table over limit",
	[K_ST_OTHER_UNPRIV] = "setup_table other unprivileged",
	[K_ST_OTHER_PRIV] = "setup_table other privileged",
	[K_ST_BAD_DOMAIN] = "setup_table bad domain",
	[K_ST_NULL_LIST] = "setup_table list outside RAM",
	[K_ST_ZERO] = "setup_table 0 frames",
	[K_QS_SELF] = "query_size self",
	[K_QS_OTHER_UNPRIV] = "query_size other unprivileged",
	[K_QS_OTHER_PRIV] = "query_size other privileged",
	[K_QS_BAD_DOMAIN] = "query_size bad domain",
	[K_DT_SELF] = "dump_table self",
	[K_DT_OTHER_UNPRIV] = "dump_table other unprivileged",
	[K_DT_OTHER_PRIV] = "dump_table other privileged",
	[K_DT_BAD_DOMAIN] = "dump_table bad domain",
	[K_DT_STALL] = "dump_table stall",
	[K_TR_VALID] = "transfer",
	[K_TR_RETURN] = "transfer back",
	[K_TR_BAD_GFN] = "transfer bad gfn",
	[K_TR_MAPPED_GFN] = "transfer mapped gfn",
	[K_TR_BAD_DOMAIN] = "transfer bad domain",
	[K_TR_NOT_OFFERED] = "transfer not offered",
	[K_TR_SELF] = "transfer to DOMID_SELF",
	[K_GARBAGE] = "garbage request",
	[K_HC_FLAGS] = "hypercall flags set",
	[K_HC_BAD_CMD] = "hypercall bad command",
	[K_HC_BAD_COUNT] = "hypercall bad count",
	[K_HC_BAD_ARRAY] = "hypercall array outside RAM",
	[K_HC_EMPTY] = "hypercall count 0",
	[K_HC_RUNOFF] = "hypercall array runs off RAM",
	[K_HC_BAD_LIST] = "hypercall frame_list outside RAM",
	[K_HC_SCRIBBLE] = "hypercall op rewritten in flight",
	[K_CP_V2] = "copy v2 slot",
	[K_MP_V2] = "map v2 slot",
	[K_UR_VALID] = "unmap_and_replace",
	[K_UR_NEWADDR] = "unmap_and_replace new_addr",
	[K_UR_BAD_HOST] = "unmap_and_replace wrong host_addr",
	[K_UR_STALE] = "unmap_and_replace stale handle",
	[K_UR_DEVONLY] = "unmap_and_replace device-only",
	[K_SV_SET] = "set_version",
	[K_SV_BAD] = "set_version bad version",
	[K_GV_SELF] = "get_version self",
	[K_GV_OTHER] = "get_version other",
	[K_GV_BAD_DOMAIN] = "get_version bad domain",
	[K_GS_SELF] = "get_status_frames self",
	[K_GS_NULL] = "get_status_frames list outside RAM",
	[K_GS_OTHER] = "get_status_frames other",
	[K_GS_BAD_DOMAIN] = "get_status_frames bad domain",
	[K_SW_SPARE] = "swap spare refs",
	[K_SW_SAME] = "swap a ref with itself",
	[K_SW_PINNED] = "swap a pinned ref",
	[K_SW_RANGE] = "swap out of range",
	[K_CF_MAPPED] = "cache_flush mapped frame",
	[K_CF_OWN] = "cache_flush own frame",
	[K_CF_BAD_ARGS] = "cache_flush bad args",
	[K_CF_NOOP] = "cache_flush nothing to do",
	[K_CF_UNGRANTED] = "cache_flush frame not mapped",
};

const char *
kind_name(uint8_t kind)
{
	return kind < K_COUNT && kind_names[kind] != NULL ? kind_names[kind] : "?";
}

const char *
role_name(uint8_t role)
{
	static const char *const n[] = {"?",	    "client",	"guest", "vclient", "vgranter",
					"hostile", "pressure", "stall", "v2",	   "v2target"};

	return role < sizeof(n) / sizeof(n[0]) ? n[role] : "?";
}

size_t
op_size(uint8_t cmd)
{
	return gntdp_gnttab_op_size(cmd);
}

void
record_free(struct record *r)
{
	free(r->ops);
	free(r->meta);
	r->ops = NULL;
	r->meta = NULL;
}

/* ---- World-independent device addresses ---------------------------------------------- */

/*
 * Device addresses in records are world-independent: bit 63, the frame allocation's serial
 * number and the offset in it. Each world turns them into its own I/O address (IOVA = VA
 * with this provider) before executing, so a trace replays on fresh worlds.
 */
#define ABS_BIT (1ull << 63)

uint64_t
addr_abstract(struct world *w, uint64_t addr)
{
	uint32_t serial;
	uint64_t off;

	if (!world_addr_id(w, addr, &serial, &off))
		return addr;
	return ABS_BIT | (uint64_t)serial << 40 | off;
}

uint64_t
addr_concrete(struct world *w, uint64_t a)
{
	uint32_t serial = (uint32_t)((a & ~ABS_BIT) >> 40);
	uint64_t off = a & ((1ull << 40) - 1);

	if (!(a & ABS_BIT))
		return a;
	for (unsigned int i = 0; i < STRESS_MAX_ALLOCS; i++) {
		uintptr_t va = atomic_load(&w->allocs[i].va);

		if (va != 0 && w->allocs[i].serial == serial)
			return va + off;
	}
	return a; /* gone: stays an address no mapping can have */
}

/* ---- Guest and control actions -------------------------------------------------- */

/* The v2 granters' actions (gen_v2.c): grants in v2 form, their own set_version. */
static int
exec_guest_v2(struct world *w, const struct record *r)
{
	gntdp_domid_t domid = r->qid;
	union gntdp_grant_entry_v2 *e2;
	gntdp_grant_status_t *st;
	uint32_t n;

	if (r->cmd == GA_SET_VERSION) {
		struct gntdp_gnttab_set_version sv = {.version = r->a};

		return gntdp_gnttab_op(w->ctx, domid, GNTDP_GNTTABOP_SET_VERSION, &sv, 1);
	}
	if (r->cmd == GA_V1_END_ANY) {
		struct gntdp_grant_entry_v1 *e = world_entry(w, domid, r->ref);

		if (table_version(w, domid) != 1 || e == NULL)
			return -EINVAL;
		return gntdp_guest_end_access(e);
	}
	if (gntdp_guest_table_v2(w->gt, domid, &e2, &st, &n) != 0)
		return -EINVAL;
	if (r->ref >= n)
		return -ENOENT;
	switch (r->cmd) {
	case GA_V2_FULL:
		return gntdp_guest_grant_access_v2(&e2[r->ref], (gntdp_domid_t)r->a, r->b, r->c != 0);
	case GA_V2_SUB:
		return gntdp_guest_grant_sub_page(&e2[r->ref], (gntdp_domid_t)r->a, r->b,
						  (uint16_t)(r->c >> 16), (uint16_t)r->c, false);
	case GA_V2_TRANS:
		return gntdp_guest_grant_transitive(&e2[r->ref], (gntdp_domid_t)r->a,
						    (gntdp_domid_t)r->b, r->c, false);
	case GA_V2_END:
		return gntdp_guest_end_access_v2(&e2[r->ref], &st[r->ref]);
	case GA_RAW_V2: {
		/* A guest writing an entry the guest-side helpers would not: body, then header. */
		uint32_t *wd = (uint32_t *)(void *)&e2[r->ref];

		__atomic_store_n(&wd[1], 0, __ATOMIC_RELAXED);
		__atomic_store_n(&wd[2], r->b, __ATOMIC_RELAXED); /* frame, low and high */
		__atomic_store_n(&wd[3], r->c, __ATOMIC_RELAXED);
		__atomic_store_n(&wd[0], r->a, __ATOMIC_RELEASE);
		return 0;
	}
	default:
		return -EINVAL;
	}
}

int
exec_guest(struct world *w, const struct record *r)
{
	gntdp_domid_t domid = r->qid;
	struct gntdp_grant_entry_v1 *e;
	uint32_t frame = 0;
	int rc;

	if (r->type == REC_CTRL) {
		switch (r->cmd) {
		case CA_DESTROY:
			return world_destroy_dom(w, domid);
		case CA_CREATE:
			return world_create_dom(w, domid, r->a);
		default:
			return 0;
		}
	}
	if (r->cmd == GA_FILL) {
		uint8_t *va = gntdp_domain_frame(w->gt, domid, r->b);

		if (va == NULL)
			return -ENOENT;
		frame_fill(va, w->spec->seed, domid, r->b, r->a);
		return 0;
	}
	if (r->cmd >= GA_V2_FULL)
		return exec_guest_v2(w, r);
	/* The v1 actions on a v2 table would write the wrong layout: a tool bug, refused. */
	if (table_version(w, domid) != 1)
		return -EPROTO;
	e = world_entry(w, domid, r->ref);
	if (e == NULL)
		return -ENOENT;
	switch (r->cmd) {
	case GA_GRANT:
		return gntdp_guest_grant_access(e, (gntdp_domid_t)r->a, r->b, r->c != 0);
	case GA_END:
		return gntdp_guest_end_access(e);
	case GA_SET_RO:
		return gntdp_guest_set_readonly(e);
	case GA_SET_RW:
		gntdp_guest_set_writable(e);
		return 0;
	case GA_CORRUPT:
		/* A hostile guest scribbles on its own entry: frame, then the flags word. */
		__atomic_store_n(&e->frame, r->b, __ATOMIC_RELAXED);
		__atomic_store_n((uint32_t *)(void *)e, r->a, __ATOMIC_RELEASE);
		return 0;
	case GA_OFFER:
		return gntdp_guest_grant_transfer(e, (gntdp_domid_t)r->a, r->b);
	case GA_END_TRANSFER:
		rc = gntdp_guest_end_transfer(e, &frame);
		return rc == 0 ? (int)(frame & 0x7fffffffu) : rc;
	default:
		return -EINVAL;
	}
}

/* ---- Handle translation ------------------------------------------------------------ */

struct hslot {
	uint64_t key; /* (rec + 1) << 20 | op; 0 = empty */
	uint32_t handle;
	bool dead;
};

struct handle_map {
	struct hslot *s;
	size_t cap, used;
};

struct handle_map *
hmap_new(void)
{
	struct handle_map *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->cap = 1024;
	h->s = calloc(h->cap, sizeof(*h->s));
	if (h->s == NULL) {
		free(h);
		return NULL;
	}
	return h;
}

void
hmap_free(struct handle_map *h)
{
	if (h != NULL)
		free(h->s);
	free(h);
}

static inline uint64_t
hkey(uint32_t rec, uint32_t op)
{
	return ((uint64_t)rec + 1) << 20 | op;
}

static struct hslot *
hfind(const struct handle_map *h, uint64_t key)
{
	size_t i = (size_t)(key * 0x9e3779b97f4a7c15ull >> 20) & (h->cap - 1);

	while (h->s[i].key != 0 && h->s[i].key != key)
		i = (i + 1) & (h->cap - 1);
	return &h->s[i];
}

void
hmap_put(struct handle_map *h, uint32_t rec, uint32_t op, uint32_t handle)
{
	struct hslot *s;

	if ((h->used + 1) * 2 > h->cap) {
		struct hslot *old = h->s;
		size_t oc = h->cap;

		h->s = calloc(oc * 2, sizeof(*h->s));
		if (h->s == NULL) {
			h->s = old;
			return;
		}
		h->cap = oc * 2;
		for (size_t i = 0; i < oc; i++) {
			if (old[i].key != 0)
				*hfind(h, old[i].key) = old[i];
		}
		free(old);
	}
	s = hfind(h, hkey(rec, op));
	if (s->key == 0)
		h->used++;
	s->key = hkey(rec, op);
	s->handle = handle;
	s->dead = false;
}

bool
hmap_get(const struct handle_map *h, uint32_t rec, uint32_t op, uint32_t *handle)
{
	const struct hslot *s = hfind(h, hkey(rec, op));

	if (s->key == 0 || s->dead)
		return false;
	*handle = s->handle;
	return true;
}

void
hmap_del(struct handle_map *h, uint32_t rec, uint32_t op)
{
	struct hslot *s = hfind(h, hkey(rec, op));

	if (s->key != 0)
		s->dead = true;
}

void
record_handles(const struct record *r, const struct handle_map *h, uint32_t *out)
{
	const struct gntdp_gnttab_unmap_grant_ref *u = r->ops;

	for (uint32_t i = 0; i < r->count; i++) {
		out[i] = u[i].handle;
		if (r->meta != NULL && r->meta[i].orec != 0 &&
		    !hmap_get(h, r->meta[i].orec - 1, r->meta[i].oop, &out[i]))
			/* The map it came from did not succeed here (or was minimized away). */
			out[i] = 0xfffffff0u;
	}
}

/* ---- Drained invariants ---------------------------------------------------------- */

/* A v2 table at rest: no status word keeps reading or writing. */
static int
drained_v2(struct world *w, gntdp_domid_t domid, const char *when)
{
	union gntdp_grant_entry_v2 *e;
	gntdp_grant_status_t *st;
	uint32_t n;

	if (gntdp_guest_table_v2(w->gt, domid, &e, &st, &n) != 0)
		return 0;
	for (uint32_t ref = 0; ref < n; ref++) {
		uint16_t v = __atomic_load_n(&st[ref], __ATOMIC_ACQUIRE);

		if (v & (GNTDP_GTF_READING | GNTDP_GTF_WRITING)) {
			violation("leak/flags",
				  "%s: d%u v2 ref %u keeps status 0x%x with nothing using it", when,
				  domid, ref, v);
			return 1;
		}
	}
	return 0;
}

int
check_drained(struct world *w, const char *when, int extra_allocs)
{
	const struct world_spec *ws = w->spec;
	uint32_t alive = 0;
	int bad = 0;

	/*
	 * Three passes, causes first: a live mapping explains pins and flags, a pin
	 * explains flags. So the first violation names the root (the minimizer keeps it).
	 */
	for (int pass = 0; pass < 3; pass++) {
		for (uint32_t i = 0; i < ws->nb_doms; i++) {
			const struct dom_spec *d = &ws->doms[i];
			struct gntdp_domain_info info;
			struct gntdp_grant_entry_v1 *e;
			char sig[64];
			uint32_t n;

			if (!w->alive[i])
				continue;
			if (gntdp_domain_info(w->gt, d->domid, &info) != 0) {
				if (pass == 0) {
					violation("drain", "%s: d%u missing", when, d->domid);
					bad++;
				}
				continue;
			}
			if (pass == 0) {
				alive++;
				if (info.live_mappings != 0) {
					snprintf(sig, sizeof(sig), "leak/mappings/%s",
						 role_name(d->role));
					violation(
						sig,
						"%s: d%u (%s) still has %u live mappings after the "
						"workload unmapped everything",
						when, d->domid, role_name(d->role),
						info.live_mappings);
					bad++;
				}
				continue;
			}
			if (pass == 1) {
				if (info.pinned_entries != 0) {
					snprintf(sig, sizeof(sig), "leak/pins/%s",
						 role_name(d->role));
					violation(
						sig,
						"%s: d%u (%s) has %u pinned entries after the "
						"workload drained (no mapping, no copy in flight)",
						when, d->domid, role_name(d->role),
						info.pinned_entries);
					bad++;
				}
				continue;
			}
			if (table_version(w, d->domid) == 2) {
				bad += drained_v2(w, d->domid, when);
				continue;
			}
			if (gntdp_guest_table(w->gt, d->domid, &e, &n) != 0)
				continue;
			for (uint32_t ref = 0; ref < n; ref++) {
				uint32_t word = __atomic_load_n((uint32_t *)(void *)&e[ref],
								__ATOMIC_ACQUIRE);
				uint16_t flags = (uint16_t)word;
				uint16_t type = flags & GNTDP_GTF_TYPE_MASK;

				if (ref >= ws->corrupt_lo && ref < ws->corrupt_hi &&
				    d->role == ROLE_GUEST)
					continue;
				if ((type == GNTDP_GTF_PERMIT_ACCESS ||
				     type == GNTDP_GTF_INVALID) &&
				    (flags & (GNTDP_GTF_READING | GNTDP_GTF_WRITING)) != 0) {
					violation("leak/flags",
						  "%s: d%u ref %u keeps flags 0x%x with "
						  "nothing using it",
						  when, d->domid, ref, flags);
					bad++;
					break;
				}
			}
		}
	}
	if (extra_allocs >= 0 &&
	    atomic_load(&w->nb_live_allocs) != ALLOCS_PER_DOM * alive + (uint32_t)extra_allocs) {
		violation("leak/allocs",
			  "%s: %u frame allocations live for %u domains (expected %u): "
			  "a destroyed domain was never freed",
			  when, atomic_load(&w->nb_live_allocs), alive,
			  ALLOCS_PER_DOM * alive + (uint32_t)extra_allocs);
		bad++;
	}
	return bad;
}

/* ---- Comparing two worlds ------------------------------------------------------------ */

static uint64_t
addr_key(struct world *w, uint64_t addr)
{
	uint32_t serial;
	uint64_t off;

	if (!world_addr_id(w, addr, &serial, &off))
		return UINT64_MAX;
	return (uint64_t)serial << 40 | off;
}

int
compare_results(struct world *wa, struct world *wb, const struct record *r,
		const struct op_result *ra, const struct op_result *rb, uint32_t rec)
{
	int bad = 0;

	for (uint32_t i = 0; i < r->count && bad < 3; i++) {
		uint32_t cmd = rec_cmd(r, i);
		const char *kind = r->meta ? kind_name(r->meta[i].kind) : "?";
		char sig[96];

		snprintf(sig, sizeof(sig), "oracle/%s", kind);
		if (ra[i].status != rb[i].status || ra[i].rc != rb[i].rc) {
			violation(sig,
				  "rec %u op %u/%u (%s, queue %u): through the data plane %s rc "
				  "%d, plain core %s rc %d",
				  rec, i, r->count, kind, r->qid, gntdp_gntst_name(ra[i].status),
				  ra[i].rc, gntdp_gntst_name(rb[i].status), rb[i].rc);
			bad++;
			continue;
		}
		if (ra[i].status != GNTDP_GNTST_OKAY)
			continue;
		if (cmd == GNTDP_GNTTABOP_MAP_GRANT_REF &&
		    (ra[i].handle != rb[i].handle ||
		     addr_key(wa, ra[i].dev_bus_addr) != addr_key(wb, rb[i].dev_bus_addr))) {
			violation(sig, "rec %u op %u: map handle %u / %u, dev_bus_addr differ", rec,
				  i, ra[i].handle, rb[i].handle);
			bad++;
		}
		if (cmd == GNTDP_GNTTABOP_QUERY_SIZE &&
		    (ra[i].nr_frames != rb[i].nr_frames ||
		     ra[i].max_nr_frames != rb[i].max_nr_frames)) {
			violation(sig, "rec %u op %u: query_size %u/%u vs %u/%u", rec, i,
				  ra[i].nr_frames, ra[i].max_nr_frames, rb[i].nr_frames,
				  rb[i].max_nr_frames);
			bad++;
		}
		if ((cmd == GNTDP_GNTTABOP_SET_VERSION || cmd == GNTDP_GNTTABOP_GET_VERSION) &&
		    ra[i].version != rb[i].version) {
			violation(sig, "rec %u op %u: version %u vs %u", rec, i, ra[i].version,
				  rb[i].version);
			bad++;
		}
		if (cmd == GNTDP_GNTTABOP_GET_STATUS_FRAMES && r->type == REC_BATCH &&
		    r->count <= STRESS_MAX_SETUP_OPS) {
			const struct gntdp_gnttab_get_status_frames *gs =
				(const void *)((const uint8_t *)r->ops + i * op_size(cmd));
			const uint64_t *la = opa_list(wa, r->qid, i);
			const uint64_t *lb = opa_list(wb, r->qid, i);

			/* Machine frame numbers come in allocation order: equal in both worlds. */
			for (uint32_t k = 0;
			     (uintptr_t)gs->frame_list == GADDR_SLOT && la != NULL && lb != NULL &&
			     k < gs->nr_frames && k < STRESS_FRAME_LIST;
			     k++) {
				if (la[k] != lb[k]) {
					violation(sig,
						  "rec %u op %u: status frame %u is %#llx / %#llx, "
						  "not the same frame in both worlds",
						  rec, i, k, (unsigned long long)la[k],
						  (unsigned long long)lb[k]);
					bad++;
					break;
				}
			}
		}
		if (cmd == GNTDP_GNTTABOP_SETUP_TABLE && r->type == REC_BATCH &&
		    r->count <= STRESS_MAX_SETUP_OPS) {
			const struct gntdp_gnttab_setup_table *st =
				(const void *)((const uint8_t *)r->ops + i * op_size(cmd));
			uint32_t n = st->nr_frames < STRESS_FRAME_LIST ? st->nr_frames
								       : STRESS_FRAME_LIST;

			const uint64_t *la = opa_list(wa, r->qid, i);
			const uint64_t *lb = opa_list(wb, r->qid, i);

			if ((uintptr_t)st->frame_list == GADDR_SLOT &&
			    (la == NULL || lb == NULL || memcmp(la, lb, n * 8) != 0)) {
				violation(sig, "rec %u op %u: setup_table frame lists differ", rec,
					  i);
				bad++;
			}
		}
	}
	return bad;
}

bool
rec_needs_empty_cache(const struct world_spec *ws, const struct record *r)
{
	if (r->type != REC_BATCH)
		return false;
	if (r->qid < ws->nb_queues && ws->queues[r->qid].role == ROLE_V2)
		return true;
	for (uint32_t i = 0; r->meta != NULL && i < r->count; i++) {
		if ((r->meta[i].kind == K_CP_V2 || r->meta[i].kind == K_MP_V2) &&
		    (r->meta[i].aux2 & V2_META_UNSTABLE))
			return true;
	}
	return false;
}

int
table_version(struct world *w, gntdp_domid_t domid)
{
	union gntdp_grant_entry_v2 *e;
	gntdp_grant_status_t *st;
	uint32_t n;

	return gntdp_guest_table_v2(w->gt, domid, &e, &st, &n) == 0 ? 2 : 1;
}

/* v2 entries byte for byte, the header's flags with reading/writing masked (cached pins). */
static int
compare_v2(struct world *wa, struct world *wb, gntdp_domid_t domid, uint32_t rec)
{
	union gntdp_grant_entry_v2 *ea, *eb;
	gntdp_grant_status_t *sa, *sb;
	uint32_t na, nb;

	if (gntdp_guest_table_v2(wa->gt, domid, &ea, &sa, &na) != 0 ||
	    gntdp_guest_table_v2(wb->gt, domid, &eb, &sb, &nb) != 0 || na != nb) {
		violation("memory", "after rec %u: d%u v2 tables differ in size", rec, domid);
		return 1;
	}
	for (uint32_t ref = 0; ref < na; ref++) {
		union gntdp_grant_entry_v2 xa = ea[ref], xb = eb[ref];

		xa.hdr.flags &= (uint16_t)~(GNTDP_GTF_READING | GNTDP_GTF_WRITING);
		xb.hdr.flags &= (uint16_t)~(GNTDP_GTF_READING | GNTDP_GTF_WRITING);
		if (memcmp(&xa, &xb, sizeof(xa)) != 0) {
			violation("memory",
				  "after rec %u: d%u v2 entry %u: flags %#x domid %u body %#llx "
				  "vs flags %#x domid %u body %#llx",
				  rec, domid, ref, xa.hdr.flags, xa.hdr.domid,
				  (unsigned long long)xa.full_page.frame, xb.hdr.flags,
				  xb.hdr.domid, (unsigned long long)xb.full_page.frame);
			return 1;
		}
	}
	return 0;
}

int
compare_worlds(struct world *wa, struct world *wb, uint32_t rec)
{
	const struct world_spec *ws = wa->spec;
	int bad = 0;

	for (uint32_t d = 0; d < ws->nb_doms && bad == 0; d++) {
		const struct dom_spec *ds = &ws->doms[d];
		struct gntdp_domain_info ia, ib;
		struct gntdp_grant_entry_v1 *ea, *eb;
		uint32_t na, nb;

		if (wa->alive[d] != wb->alive[d]) {
			violation("memory", "after rec %u: d%u alive in one world only", rec,
				  ds->domid);
			return 1;
		}
		if (!wa->alive[d])
			continue;
		for (uint32_t g = 0; g < ds->p2m_size; g++) {
			/* Op areas hold dev_bus_addrs written back, which differ by design. */
			if (opa_holds(ws, ds->domid, g))
				continue;
			const uint8_t *fa = gntdp_domain_frame(wa->gt, ds->domid, g);
			const uint8_t *fb = gntdp_domain_frame(wb->gt, ds->domid, g);

			if ((fa == NULL) != (fb == NULL) ||
			    (fa != NULL && memcmp(fa, fb, GNTDP_PAGE_SIZE) != 0)) {
				violation("memory",
					  "after rec %u: d%u gfn %u differs between the data "
					  "plane's world and the plain core's (%s)",
					  rec, ds->domid, g,
					  (fa == NULL) != (fb == NULL) ? "present in one"
								       : "bytes");
				bad++;
				break;
			}
		}
		if (gntdp_guest_table(wa->gt, ds->domid, &ea, &na) != 0 ||
		    gntdp_guest_table(wb->gt, ds->domid, &eb, &nb) != 0 || na != nb) {
			violation("memory", "after rec %u: d%u grant table sizes differ", rec,
				  ds->domid);
			return 1;
		}
		if (table_version(wa, ds->domid) != table_version(wb, ds->domid)) {
			violation("memory", "after rec %u: d%u grant table versions differ", rec,
				  ds->domid);
			return 1;
		}
		if (table_version(wa, ds->domid) == 2) {
			bad += compare_v2(wa, wb, ds->domid, rec);
			na = 0; /* the v1 view does not apply */
		}
		for (uint32_t ref = 0; ref < na; ref++) {
			/* A cached pin keeps GTF_reading/writing set a little longer: mask them. */
			uint32_t m = ~(uint32_t)(GNTDP_GTF_READING | GNTDP_GTF_WRITING);
			uint32_t xa = *(const uint32_t *)(const void *)&ea[ref] & m;
			uint32_t xb = *(const uint32_t *)(const void *)&eb[ref] & m;

			if (xa != xb || ea[ref].frame != eb[ref].frame) {
				violation("memory", "after rec %u: d%u entry %u: %#x/%u vs %#x/%u",
					  rec, ds->domid, ref, xa, ea[ref].frame, xb,
					  eb[ref].frame);
				bad++;
				break;
			}
		}
		gntdp_domain_info(wa->gt, ds->domid, &ia);
		gntdp_domain_info(wb->gt, ds->domid, &ib);
		if (ia.live_mappings != ib.live_mappings || ia.owned_pages != ib.owned_pages ||
		    ia.maptrack_limit != ib.maptrack_limit ||
		    ia.nr_grant_frames != ib.nr_grant_frames) {
			violation("memory",
				  "after rec %u: d%u counters differ: mappings %u/%u, pages "
				  "%u/%u, maptrack %u/%u, frames %u/%u",
				  rec, ds->domid, ia.live_mappings, ib.live_mappings,
				  ia.owned_pages, ib.owned_pages, ia.maptrack_limit,
				  ib.maptrack_limit, ia.nr_grant_frames, ib.nr_grant_frames);
			bad++;
		}
	}
	if (atomic_load(&wa->dumps) != atomic_load(&wb->dumps) ||
	    atomic_load(&wa->log_lines) != atomic_load(&wb->log_lines)) {
		violation("memory",
			  "after rec %u: dump_table wrote %lu lines (%lu dumps) vs %lu (%lu)", rec,
			  atomic_load(&wa->log_lines), atomic_load(&wa->dumps),
			  atomic_load(&wb->log_lines), atomic_load(&wb->dumps));
		bad++;
	}
	return bad;
}

/*
 * Wait until world A's pins equal world B's (B is Xen-exact: none survive a call), or, with
 * no B, until no entry is pinned and no zombie remains. The data plane's cache releases its
 * pins within hold_us of their last use (docs/cache.md); past @p timeout_s it is a violation.
 */
int
wait_pins(struct world *wa, struct world *wb, double timeout_s, const char *when,
	  uint32_t extra_allocs)
{
	double end = now_s() + timeout_s;

	for (;;) {
		const struct world_spec *ws = wa->spec;
		uint32_t alive = 0, diff = 0, bad_dom = 0, pa = 0, pb = 0;

		for (uint32_t d = 0; d < ws->nb_doms; d++) {
			struct gntdp_domain_info ia, ib;

			if (!wa->alive[d])
				continue;
			alive++;
			if (gntdp_domain_info(wa->gt, ws->doms[d].domid, &ia) != 0)
				continue;
			memset(&ib, 0, sizeof(ib));
			if (wb != NULL && gntdp_domain_info(wb->gt, ws->doms[d].domid, &ib) != 0)
				continue;
			if (ia.pinned_entries != ib.pinned_entries) {
				diff++;
				bad_dom = ws->doms[d].domid;
				pa = ia.pinned_entries;
				pb = ib.pinned_entries;
			}
		}
		if (diff == 0 &&
		    (wb != NULL
			     ? atomic_load(&wa->nb_live_allocs) == atomic_load(&wb->nb_live_allocs)
			     : atomic_load(&wa->nb_live_allocs) == ALLOCS_PER_DOM * alive + extra_allocs))
			return 0;
		if (now_s() > end) {
			if (diff != 0)
				violation("pins",
					  "%s: d%u keeps %u pinned entries (expected %u) %.1f s "
					  "after its last use",
					  when, bad_dom, pa, pb, timeout_s);
			else
				violation("leak/allocs",
					  "%s: %u frame allocations live, expected %u: a dead "
					  "domain is still referenced %.1f s later",
					  when, atomic_load(&wa->nb_live_allocs),
					  wb ? atomic_load(&wb->nb_live_allocs)
					     : ALLOCS_PER_DOM * alive + extra_allocs,
					  timeout_s);
			return -1;
		}
		sleep_us(50);
	}
}
