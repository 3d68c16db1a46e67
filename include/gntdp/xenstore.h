/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Xen's xenstore wire protocol (the socket framing of io/xs_wire.h) as
 * gntdp-xenstored speaks it.
 *
 * Written from the published interface description (docs/misc/xenstore.txt
 * and the MIT-licensed public header), not copied from Xen. Every message in
 * either direction is a struct gntdp_xs_sockmsg followed by len bytes of
 * payload; replies echo req_id and tx_id. Errors travel as GNTDP_XS_ERROR
 * with the errno's name ("ENOENT") and a NUL as payload. tests/abi compares
 * every value here with Debian's libxen-dev <xen/io/xs_wire.h>. docs/abi.md
 * maps the names (GNTDP_XS_READ is XS_READ, and so on).
 *
 * Threading: plain data definitions, no state.
 */
#ifndef GNTDP_XENSTORE_H
#define GNTDP_XENSTORE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Message types (Xen enum xsd_sockmsg_type); the numbers are the wire values. */
enum gntdp_xs_type {
	GNTDP_XS_CONTROL = 0, /**< also XS_DEBUG */
	GNTDP_XS_DIRECTORY = 1,
	GNTDP_XS_READ = 2,
	GNTDP_XS_GET_PERMS = 3,
	GNTDP_XS_WATCH = 4,
	GNTDP_XS_UNWATCH = 5,
	GNTDP_XS_TRANSACTION_START = 6,
	GNTDP_XS_TRANSACTION_END = 7,
	GNTDP_XS_INTRODUCE = 8,
	GNTDP_XS_RELEASE = 9,
	GNTDP_XS_GET_DOMAIN_PATH = 10,
	GNTDP_XS_WRITE = 11,
	GNTDP_XS_MKDIR = 12,
	GNTDP_XS_RM = 13,
	GNTDP_XS_SET_PERMS = 14,
	GNTDP_XS_WATCH_EVENT = 15, /**< server to client only */
	GNTDP_XS_ERROR = 16,       /**< server to client only */
	GNTDP_XS_IS_DOMAIN_INTRODUCED = 17,
	GNTDP_XS_RESUME = 18,
	GNTDP_XS_SET_TARGET = 19,
	/* 20 was XS_RESTRICT, removed from the protocol: invalid. */
	GNTDP_XS_RESET_WATCHES = 21,
	GNTDP_XS_DIRECTORY_PART = 22,
	GNTDP_XS_GET_FEATURE = 23,
	GNTDP_XS_SET_FEATURE = 24,
	GNTDP_XS_GET_QUOTA = 25,
	GNTDP_XS_SET_QUOTA = 26,
	GNTDP_XS_TYPE_COUNT = 27, /**< number of defined types */
	GNTDP_XS_INVALID = 0xffff /**< guaranteed invalid */
};

/** The message header (Xen struct xsd_sockmsg), host byte order. */
struct gntdp_xs_sockmsg {
	uint32_t type;   /**< enum gntdp_xs_type */
	uint32_t req_id; /**< echoed in the reply */
	uint32_t tx_id;  /**< transaction, 0 for none */
	uint32_t len;    /**< payload bytes after the header */
};

#ifndef __cplusplus
_Static_assert(sizeof(struct gntdp_xs_sockmsg) == 16, "xsd_sockmsg is 16 bytes");
#endif

/** Largest payload in either direction; a client that sends more is disconnected. */
#define GNTDP_XS_PAYLOAD_MAX 4096
/** Longest absolute path (bytes, without the NUL). */
#define GNTDP_XS_ABS_PATH_MAX 3072
/** Longest path below /local/domain/<domid>/ an unprivileged domain may use. */
#define GNTDP_XS_REL_PATH_MAX 2048

/** Watch event payload: the path string, then the token string. */
#define GNTDP_XS_WATCH_PATH 0
#define GNTDP_XS_WATCH_TOKEN 1

#ifdef __cplusplus
}
#endif

#endif /* GNTDP_XENSTORE_H */
