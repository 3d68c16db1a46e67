/* SPDX-License-Identifier: MIT */
/*
 * gntdp-xenstored's store and tree operations without sockets: a seeded
 * random sequence of WRITE, MKDIR, RM and SET_PERMS by three domains,
 * directly and in transactions that commit (or fail with EAGAIN) or abort,
 * with the store's invariants checked after every step:
 *   - every node's children exist, and every node but / is its parent's child;
 *   - the per-domain node counts (the node quota) equal a recount;
 *   - no domain owns more nodes than its quota;
 *   - a transaction's changes are invisible outside it until its commit.
 * Plus fixed cases for the transaction conflict rules.
 *
 * Exit 0 all held, 1 a violation (printed).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsd.h"

static unsigned int nb_fail;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			nb_fail++;                                                                 \
			printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                     \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
		}                                                                                  \
	} while (0)

static const struct xsd_quota quota = {
	.nodes = 40,
	.watches = 8,
	.transactions = 4,
	.tx_nodes = 64,
	.perms = 5,
	.node_size = 2048,
};

static struct xsd_who who[3] = {
	{.domid = 0, .priv = true, .q = &quota},
	{.domid = 1, .priv = false, .q = &quota},
	{.domid = 2, .priv = false, .q = &quota},
};

/* Tree shape and accounting against a recount. */
static void
check_store(struct xsd_store *st, const char *when)
{
	static uint32_t count[XSD_PERM_ID_MAX + 1];

	memset(count, 0, sizeof(count));
	for (size_t b = 0; b < st->map.cap; b++) {
		for (struct xsd_node *n = st->map.tab[b]; n; n = n->hnext) {
			count[xsd_node_owner(n)]++;
			for (uint32_t off = 0; off < n->klen;
			     off += (uint32_t)strlen(n->kids + off) + 1) {
				char *k = xsd_path_join(n->path, n->kids + off);

				CHECK(xsd_store_find(st, k) != NULL, "%s: %s lists %s, absent",
				      when, n->path, k);
				free(k);
			}
			if (n->path[0] == '/' && strcmp(n->path, "/") != 0) {
				char parent[GNTDP_XS_ABS_PATH_MAX + 1];
				const char *slash = strrchr(n->path, '/');
				size_t len = slash == n->path ? 1 : (size_t)(slash - n->path);
				struct xsd_node *p;
				bool listed = false;

				memcpy(parent, n->path, len);
				parent[len] = '\0';
				p = xsd_store_find(st, parent);
				CHECK(p != NULL, "%s: %s has no parent", when, n->path);
				for (uint32_t off = 0; p && off < p->klen;
				     off += (uint32_t)strlen(p->kids + off) + 1)
					listed |= strcmp(p->kids + off, slash + 1) == 0;
				CHECK(listed, "%s: %s not listed in its parent", when, n->path);
			}
		}
	}
	for (unsigned int d = 0; d < 4; d++)
		CHECK(count[d] == st->owned[d], "%s: dom%u owns %u, counted %u", when, d,
		      (unsigned int)st->owned[d], (unsigned int)count[d]);
	for (unsigned int d = 1; d < 3; d++)
		CHECK(st->owned[d] <= quota.nodes, "%s: dom%u owns %u > quota", when, d,
		      (unsigned int)st->owned[d]);
}

static const char *const paths[] = {
	"/local/domain/1/a",
	"/local/domain/1/a/b",
	"/local/domain/1/a/b/c",
	"/local/domain/1/d",
	"/local/domain/2/a",
	"/local/domain/2/e/f",
	"/shared",
	"/shared/x",
	"/shared/x/y",
	"/local/domain/1/a/g",
	"a/h",
	"a/h/i/j",
};

static int
random_op(struct xsd_view *v, struct xsd_evq *q, unsigned int r)
{
	const char *p = paths[(r >> 4) % (sizeof(paths) / sizeof(paths[0]))];
	static const char perms[][8] = {"n1", "b2", "r0", "n2"};

	switch (r % 4) {
	case 0:
		return xsd_op_write(v, q, p, "value", 5, false);
	case 1:
		return xsd_op_write(v, q, p, NULL, 0, true);
	case 2:
		return xsd_op_rm(v, q, p);
	default:
		return xsd_op_set_perms(v, q, p, perms[(r >> 8) % 4], 3, 1);
	}
}

/* Writes in a transaction stay out of the store until the commit. */
static void
check_isolation(struct xsd_store *st)
{
	struct xsd_tx *tx = xsd_tx_new(1);
	struct xsd_view tv = {st, tx, &who[1]}, sv = {st, NULL, &who[1]};
	const struct xsd_node *n;
	struct xsd_evq q;

	xsd_evq_init(&q);
	CHECK(xsd_op_write(&sv, &q, "iso", "0", 1, false) == 0, "write");
	CHECK(xsd_op_write(&tv, &q, "iso/new", "1", 1, false) == 0, "tx write");
	CHECK(xsd_op_read(&sv, "iso/new", &n) == -ENOENT, "visible before the commit");
	CHECK(xsd_op_read(&tv, "iso/new", &n) == 0 && n->vlen == 1, "tx reads its write");
	CHECK(xsd_tx_commit(st, tx, &who[1]) == 0, "commit");
	CHECK(xsd_op_read(&sv, "iso/new", &n) == 0, "absent after the commit");
	xsd_tx_free(tx);
	/* A conflict: read in the tx, written outside, then the commit. */
	tx = xsd_tx_new(2);
	tv.tx = tx;
	CHECK(xsd_op_read(&tv, "iso", &n) == 0, "tx read");
	CHECK(xsd_op_write(&sv, &q, "iso", "2", 1, false) == 0, "write");
	CHECK(xsd_op_write(&tv, &q, "iso2", "x", 1, false) == 0, "tx write");
	CHECK(xsd_tx_commit(st, tx, &who[1]) == -EAGAIN, "no EAGAIN");
	CHECK(xsd_op_read(&sv, "iso2", &n) == -ENOENT, "a failed commit applied");
	xsd_tx_free(tx);
	xsd_op_rm(&sv, &q, "iso");
	xsd_evq_free(&q);
	check_store(st, "isolation");
}

int
main(void)
{
	struct xsd_store st;
	struct xsd_evq q;
	struct xsd_tx *tx[3] = {NULL, NULL, NULL};
	unsigned int seed = 12345, commits = 0, conflicts = 0, ops = 0;
	char when[64];

	xsd_store_init(&st);
	xsd_evq_init(&q);
	for (unsigned int d = 1; d < 3; d++) {
		struct xsd_view v = {&st, NULL, &who[0]};
		char path[32], perm[8];

		snprintf(path, sizeof(path), "/local/domain/%u", d);
		snprintf(perm, sizeof(perm), "n%u", d);
		xsd_op_write(&v, &q, path, NULL, 0, true);
		xsd_op_set_perms(&v, &q, path, perm, strlen(perm) + 1, 1);
	}
	check_store(&st, "seed");
	check_isolation(&st);
	for (unsigned int step = 0; step < 20000; step++) {
		unsigned int r = (seed = seed * 1103515245u + 12345u) >> 8;
		unsigned int d = r % 3;
		struct xsd_view v = {&st, tx[d], &who[d]};

		r >>= 2;
		if (r % 16 == 0 && tx[d] == NULL) {
			tx[d] = xsd_tx_new(step + 1);
		} else if (r % 16 == 1 && tx[d] != NULL) {
			int rc = (r >> 4) % 4 ? xsd_tx_commit(&st, tx[d], &who[d]) : 0;

			CHECK(rc == 0 || rc == -EAGAIN || rc == -ENOSPC, "commit: %d", rc);
			commits += rc == 0;
			conflicts += rc == -EAGAIN;
			xsd_tx_free(tx[d]);
			tx[d] = NULL;
		} else {
			int rc = random_op(&v, &q, r >> 4);

			CHECK(rc == 0 || rc == -ENOENT || rc == -EACCES || rc == -ENOSPC ||
				      rc == -EPERM,
			      "op: %d", rc);
			ops += rc == 0;
		}
		xsd_evq_free(&q);
		snprintf(when, sizeof(when), "step %u", step);
		check_store(&st, when);
		if (nb_fail > 10)
			break;
	}
	for (unsigned int d = 0; d < 3; d++)
		xsd_tx_free(tx[d]);
	xsd_store_fini(&st);
	printf("xs_store: %u ops, %u commits, %u conflicts, %u failures\n", ops, commits, conflicts,
	       nb_fail);
	CHECK(commits > 100 && conflicts > 10, "too few commits or conflicts to mean anything");
	return nb_fail ? 1 : 0;
}
