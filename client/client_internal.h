/* SPDX-License-Identifier: MIT */
/*
 * Internal state of libgntdp-client, shared by the files of client/. Not
 * installed.
 */
#ifndef GNTDP_CLIENT_INTERNAL_H
#define GNTDP_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <gntdp/client.h>

/** Reply timeout when neither the caller nor $GNTDP_CLIENT_TIMEOUT_MS says. */
#define CL_DEFAULT_TIMEOUT_MS 5000

struct gntdp_client {
	/*
	 * Serialises the control connection: every request (send + reply),
	 * every look at the socket outside one (cl_check_socket), the ring list
	 * and why/dead. Recursive: cl_request calls cl_check_socket and cl_fail
	 * with it held. Never held across a hypercall wait or a ring's fast path.
	 */
	pthread_mutex_t lock;
	int fd;              /* the control socket */
	int dead;            /* 0, or what every later request returns (-EPIPE/-EPROTO/-ETIMEDOUT) */
	int timeout_ms;      /* per reply */
	uint32_t seq;        /* of the last request sent */
	struct gntdp_ctl_hello_reply hello;
	struct gntdp_ctl_domain_reply dom; /* valid once bound */
	gntdp_domid_t domid; /* GNTDP_DOMID_INVALID until bound */
	uint8_t *ram;        /* nr_frames pages, read-write */
	size_t ram_size;
	void *table;         /* max_grant_frames pages, read-write */
	size_t table_size;
	void *status;        /* nr_status_frames pages, read-only; NULL without */
	size_t status_size;
	struct gntdp_client_ring *rings; /* list of live rings */
	/* Event channels (evtchn.c), set up by the first gntdp_client_evtchn_open(). */
	const uint32_t *ev_gen; /* the domain's generation page, read-only; NULL before */
	size_t ev_gen_size;
	uint32_t ev_nr_ports;
	struct cl_share *shares;         /* live share segments (share.c) */
	char why[GNTDP_CTL_WHY_SIZE];
};

struct gntdp_client_ring {
	struct gntdp_hcall_client hc; /* first: the submit/reap fast path */
	uint32_t inflight;            /* submitted, not yet reaped */
	int efd;                      /* eventfd, -1 without */
	struct gntdp_client *c;
	struct gntdp_client_ring *next;
	void *mem;
	size_t mem_size;
	uint32_t id;
	uint32_t worker;
	uint64_t token; /* user_data of synchronous calls */
};

/* One control transaction (ctl.c). */
struct cl_req {
	void *msg;       /* the request, header first; cl_request fills the header */
	size_t len;      /* its size */
	uint16_t type;
	void *body;      /* reply body out (may be NULL when body_max is 0) */
	size_t body_min; /* accepted reply body sizes when err == 0 */
	size_t body_max;
	size_t body_len; /* out */
	unsigned int nfds_min; /* fds the reply must carry when err == 0 */
	unsigned int nfds_max;
	unsigned int nfds;     /* out: how many came (on success) */
	int fds[GNTDP_CTL_MAX_FDS + 4]; /* out: the fds that came */
};

/*
 * Send q->msg, wait for its reply and check it. 0: the reply was a success
 * and q->body / q->fds hold what came; <0: the daemon's err (c->why holds
 * its reason), or -EPIPE / -EPROTO / -ETIMEDOUT (the connection is then
 * dead). No fd is left open on failure.
 */
int cl_request(struct gntdp_client *c, struct cl_req *q);
/* Poll the socket without blocking: 0 while the daemon is there, else c->dead. */
int cl_check_socket(struct gntdp_client *c);
/* Record why, and mark the connection dead for the connection-level errors. */
int cl_fail(struct gntdp_client *c, int err, const char *why);
void cl_close_fds(int *fds, unsigned int n);
int64_t cl_now_ms(void);
/* mmap @p bytes of @p fd (a regular file at least that long) MAP_SHARED with @p prot. */
int cl_map_fd(int fd, uint64_t bytes, int prot, void **out);
/* Unmap a ring and free it, without telling the daemon (ring.c). */
void cl_ring_free(struct gntdp_client_ring *r);
/* Take / drop c->lock (recursive). */
void cl_lock(struct gntdp_client *c);
void cl_unlock(struct gntdp_client *c);
/* Unmap every share segment, without telling the daemon (share.c). */
void cl_share_free_all(struct gntdp_client *c);

#endif /* GNTDP_CLIENT_INTERNAL_H */
