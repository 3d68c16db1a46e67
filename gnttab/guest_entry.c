/* SPDX-License-Identifier: MIT */
/*
 * Guest side of the shared-entry protocol (seed header rules; spec 3.3 and
 * 10.2): what a guest kernel does on one entry of its own grant table.
 * Every update of {flags, domid} is one 32-bit atomic, the same unit
 * gntdp's cmpxchg uses. Nothing here knows a domain or a context, so
 * libgntdp-client links this file alone (the entries are then the ones
 * the daemon maps into the client, gntdp_client_table()).
 */
#include <errno.h>

#include "internal.h"

/* Publish: frame first, then {flags, domid} with release (the seed's wmb). */
static int
publish(struct gntdp_grant_entry_v1 *e, uint16_t flags, gntdp_domid_t domid, uint32_t frame)
{
	uint32_t *word = entry_word(e);
	uint32_t old = __atomic_load_n(word, __ATOMIC_ACQUIRE);

	if (WORD_FLAGS(old) != 0)
		return -EBUSY;
	__atomic_store_n(&e->frame, frame, __ATOMIC_RELAXED);
	/* Pairs with the acquire load in pin_set_status / transfer_commit. */
	if (!__atomic_compare_exchange_n(word, &old, ((uint32_t)domid << 16) | flags, false,
					 __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		return -EBUSY;
	return 0;
}

int
gntdp_guest_grant_access(struct gntdp_grant_entry_v1 *e, gntdp_domid_t grantee, uint32_t frame,
			 bool readonly)
{
	return publish(e, (uint16_t)(GNTDP_GTF_PERMIT_ACCESS | (readonly ? GNTDP_GTF_READONLY : 0)),
		       grantee, frame);
}

int
gntdp_guest_end_access(struct gntdp_grant_entry_v1 *e)
{
	uint32_t *word = entry_word(e);
	uint32_t old = __atomic_load_n(word, __ATOMIC_ACQUIRE);

	do {
		if (WORD_FLAGS(old) & (GNTDP_GTF_READING | GNTDP_GTF_WRITING))
			return -EBUSY;
		/* seq_cst pairs with gntdp's cmpxchg in pin_set_status: exactly one wins.
		 * Success means gntdp can no longer start using the entry; the acquire
		 * half orders our reuse of the frame after gntdp's last access (whose
		 * release is the flag clear in pin_reduce_status). */
	} while (!__atomic_compare_exchange_n(word, &old, old & 0xffff0000u, false,
					      __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE));
	return 0;
}

int
gntdp_guest_set_readonly(struct gntdp_grant_entry_v1 *e)
{
	uint32_t *word = entry_word(e);
	uint32_t old = __atomic_load_n(word, __ATOMIC_ACQUIRE);

	do {
		if ((WORD_FLAGS(old) & GNTDP_GTF_TYPE_MASK) != GNTDP_GTF_PERMIT_ACCESS)
			return -EINVAL;
		if (WORD_FLAGS(old) & GNTDP_GTF_WRITING)
			return -EBUSY;
	} while (!__atomic_compare_exchange_n(word, &old, old | GNTDP_GTF_READONLY, false,
					      __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE));
	return 0;
}

void
gntdp_guest_set_writable(struct gntdp_grant_entry_v1 *e)
{
	__atomic_fetch_and(entry_word(e), ~(uint32_t)GNTDP_GTF_READONLY, __ATOMIC_SEQ_CST);
}

int
gntdp_guest_grant_transfer(struct gntdp_grant_entry_v1 *e, gntdp_domid_t grantee, uint32_t frame)
{
	return publish(e, GNTDP_GTF_ACCEPT_TRANSFER, grantee, frame);
}

int
gntdp_guest_end_transfer(struct gntdp_grant_entry_v1 *e, uint32_t *frame)
{
	uint32_t *word = entry_word(e);
	uint32_t old = __atomic_load_n(word, __ATOMIC_ACQUIRE);

	for (;;) {
		if ((WORD_FLAGS(old) & GNTDP_GTF_TYPE_MASK) != GNTDP_GTF_ACCEPT_TRANSFER)
			return -EINVAL;
		if (WORD_FLAGS(old) & GNTDP_GTF_TRANSFER_COMMITTED)
			break;
		/* Not committed: withdraw the offer, unless gntdp commits first. */
		if (__atomic_compare_exchange_n(word, &old, old & 0xffff0000u, false,
						__ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE))
			return -ENOENT;
	}
	/* Committed: gntdp completes in bounded time; the frame is written before. */
	while (!(WORD_FLAGS(old) & GNTDP_GTF_TRANSFER_COMPLETED)) {
		cpu_relax();
		old = __atomic_load_n(word, __ATOMIC_ACQUIRE);
	}
	*frame = __atomic_load_n(&e->frame, __ATOMIC_RELAXED);
	__atomic_store_n(word, old & 0xffff0000u, __ATOMIC_RELEASE);
	return 0;
}

/* ---- Version 2 ------------------------------------------------------------ */

/* Publish a v2 entry: the body first, then {flags, domid} with release. */
static int
publish_v2(union gntdp_grant_entry_v2 *e, uint16_t flags, gntdp_domid_t domid,
	   const union gntdp_grant_entry_v2 *body)
{
	uint32_t *word = (uint32_t *)(void *)e;
	uint32_t old = __atomic_load_n(word, __ATOMIC_ACQUIRE);

	if (WORD_FLAGS(old) != 0)
		return -EBUSY;
	/* Bytes 4-15 (everything but the header), as relaxed atomics. */
	__atomic_store_n(&e->__spacer[1], body->__spacer[1], __ATOMIC_RELAXED);
	__atomic_store_n(&e->__spacer[2], body->__spacer[2], __ATOMIC_RELAXED);
	__atomic_store_n(&e->__spacer[3], body->__spacer[3], __ATOMIC_RELAXED);
	if (!__atomic_compare_exchange_n(word, &old, ((uint32_t)domid << 16) | flags, false,
					 __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		return -EBUSY;
	return 0;
}

static uint16_t
ro_flag(bool readonly)
{
	return readonly ? GNTDP_GTF_READONLY : 0;
}

int
gntdp_guest_grant_access_v2(union gntdp_grant_entry_v2 *e, gntdp_domid_t grantee, uint64_t frame,
			    bool readonly)
{
	union gntdp_grant_entry_v2 b = {.__spacer = {0, 0, 0, 0}};

	b.full_page.frame = frame;
	return publish_v2(e, (uint16_t)(GNTDP_GTF_PERMIT_ACCESS | ro_flag(readonly)), grantee, &b);
}

int
gntdp_guest_grant_sub_page(union gntdp_grant_entry_v2 *e, gntdp_domid_t grantee, uint64_t frame,
			   uint16_t page_off, uint16_t length, bool readonly)
{
	union gntdp_grant_entry_v2 b = {.__spacer = {0, 0, 0, 0}};

	b.sub_page.page_off = page_off;
	b.sub_page.length = length;
	b.sub_page.frame = frame;
	return publish_v2(e,
			  (uint16_t)(GNTDP_GTF_PERMIT_ACCESS | GNTDP_GTF_SUB_PAGE | ro_flag(readonly)),
			  grantee, &b);
}

int
gntdp_guest_grant_transitive(union gntdp_grant_entry_v2 *e, gntdp_domid_t grantee,
			     gntdp_domid_t trans_domid, gntdp_grant_ref_t gref, bool readonly)
{
	union gntdp_grant_entry_v2 b = {.__spacer = {0, 0, 0, 0}};

	b.transitive.trans_domid = trans_domid;
	b.transitive.gref = gref;
	return publish_v2(e, (uint16_t)(GNTDP_GTF_TRANSITIVE | ro_flag(readonly)), grantee, &b);
}

int
gntdp_guest_end_access_v2(union gntdp_grant_entry_v2 *e, const gntdp_grant_status_t *status)
{
	/* Linux's v2 protocol: clear the flags, full fence, then look at the
	 * status gntdp writes. Pairs with the fence in set_status_v2: either
	 * gntdp sees the cleared header and backs off, or we see its bits. */
	__atomic_store_n(&e->hdr.flags, (uint16_t)0, __ATOMIC_SEQ_CST);
	atomic_thread_fence(memory_order_seq_cst);
	if (__atomic_load_n(status, __ATOMIC_SEQ_CST) & (GNTDP_GTF_READING | GNTDP_GTF_WRITING))
		return -EBUSY;
	atomic_thread_fence(memory_order_acquire);
	return 0;
}
