/* SPDX-License-Identifier: MIT */
/*
 * The L2 switch: bridges of members (vifs and ports), a learned MAC table
 * shared by all bridges (the key carries the bridge), flooding of
 * broadcast, multicast and unknown unicast to every other live member.
 *
 * The table is open-addressed (MAC_PROBE slots from the hash), owned by the
 * backend lcore like everything it touches. Entries age out after
 * MAC_AGE_S seconds without a frame from that address (Linux bridge
 * default); a full probe window evicts its oldest entry. Learning writes
 * the entry only when the member changes or once a second, so a steady flow
 * does not dirty the table on every frame.
 */
#include <string.h>

#include "nb.h"

#define MAC_AGE_S 300

static inline uint64_t
mac_key(const uint8_t *mac, unsigned int bridge)
{
	uint64_t k = 0;

	memcpy(&k, mac, 6);
	return (k & 0xffffffffffffull) | (uint64_t)bridge << 48 | 1ull << 63;
}

static inline unsigned int
mac_hash(uint64_t key)
{
	/* Fibonacci hashing: the top bits of the product mix every input bit. */
	return (unsigned int)((key * 0x9E3779B97F4A7C15ull) >> 52) & (MAC_TABLE_SIZE - 1);
}

void
sw_init(struct be *be)
{
	memset(be->bridges, 0, sizeof(be->bridges));
	memset(be->mac, 0, sizeof(*be->mac) * MAC_TABLE_SIZE);
	be->nb_bridges = 0;
}

void
sw_add_member(struct be *be, unsigned int bridge, uint16_t member)
{
	struct bridge *br = &be->bridges[bridge];

	/* conf_validate() bounds bridges and members; this only keeps the arrays safe. */
	if (bridge >= NB_MAX_BRIDGES || br->nb_members >= NB_BRIDGE_MEMBERS_MAX)
		return;
	br->members[br->nb_members++] = member;
	if (bridge >= be->nb_bridges)
		be->nb_bridges = bridge + 1;
}

static struct mac_entry *
mac_lookup(struct be *be, uint64_t key)
{
	unsigned int h = mac_hash(key);
	uint64_t age = (uint64_t)MAC_AGE_S * be->hz;

	for (unsigned int i = 0; i < MAC_PROBE; i++) {
		struct mac_entry *e = &be->mac[(h + i) & (MAC_TABLE_SIZE - 1)];

		if (e->key == key)
			return be->now - e->last_seen < age ? e : NULL;
	}
	return NULL;
}

static void
mac_learn(struct be *be, uint64_t key, uint16_t member)
{
	unsigned int h = mac_hash(key);
	struct mac_entry *victim = NULL;

	for (unsigned int i = 0; i < MAC_PROBE; i++) {
		struct mac_entry *e = &be->mac[(h + i) & (MAC_TABLE_SIZE - 1)];

		if (e->key == key) {
			if (e->member != member) {
				e->member = member;
				e->last_seen = be->now;
				be->sw_gen++;
				CTR_ADD(be->st.mac_moved, 1);
			} else if (be->now - e->last_seen > be->hz) {
				e->last_seen = be->now;
			}
			return;
		}
		/* Prefer an empty slot, else the least recently seen entry. */
		if (e->key == 0) {
			if (victim == NULL || victim->key != 0)
				victim = e;
		} else if (victim == NULL ||
			   (victim->key != 0 && e->last_seen < victim->last_seen)) {
			victim = e;
		}
	}
	victim->key = key;
	victim->member = member;
	victim->last_seen = be->now;
	be->sw_gen++;
	CTR_ADD(be->st.mac_learned, 1);
}

void
sw_touch(struct be *be, unsigned int bridge, uint16_t src, const uint8_t *hdr)
{
	if (!(hdr[6] & 1))
		mac_learn(be, mac_key(hdr + 6, bridge), src);
}

static inline bool
member_live(const struct be *be, uint16_t m)
{
	return NB_MEMBER_IS_PORT(m) || be->vifs[m].state == VIF_UP;
}

unsigned int
sw_route(struct be *be, unsigned int bridge, uint16_t src, const uint8_t *hdr, uint16_t *out,
	 enum nb_drop *reason)
{
	const struct bridge *br = &be->bridges[bridge];
	const uint8_t *dst = hdr, *smac = hdr + 6;
	unsigned int n = 0;

	/* Only unicast source addresses are learned (a group address is never a sender). */
	if (!(smac[0] & 1))
		mac_learn(be, mac_key(smac, bridge), src);
	/*
	 * 802.1D link-local groups (01:80:C2:00:00:00..0F: STP, PAUSE, LACP,
	 * EAPOL, LLDP, ...) stay on their link, as a Linux bridge keeps them,
	 * unless group_fwd_mask names them (PAUSE never: conf_validate).
	 */
	if (unlikely(dst[0] == 0x01 && dst[1] == 0x80 && dst[2] == 0xC2 && dst[3] == 0 &&
		     dst[4] == 0 && dst[5] < 16) &&
	    !(be->conf->group_fwd_mask & (1u << dst[5]))) {
		*reason = DROP_LINK_LOCAL;
		return 0;
	}
	if (!(dst[0] & 1)) {
		const struct mac_entry *e = mac_lookup(be, mac_key(dst, bridge));

		if (e != NULL) {
			if (e->member == src) {
				*reason = DROP_HAIRPIN;
				return 0;
			}
			out[0] = e->member;
			return 1;
		}
	}
	/* Broadcast, multicast, unknown unicast: every other live member. */
	for (unsigned int i = 0; i < br->nb_members; i++) {
		uint16_t m = br->members[i];

		if (m != src && member_live(be, m))
			out[n++] = m;
	}
	if (n == 0)
		*reason = DROP_HAIRPIN;
	return n;
}
