/* SPDX-License-Identifier: MIT */
/*
 * bind_wait: be domain $GNTDP_DOMID of gntdpd ($GNTDP_SOCKET) until stdin
 * closes: it binds the domain (created), prints "bound", and waits. The xen
 * suite uses it for a live domain that xc_domain_getinfo must see.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gntdp/client.h>

int
main(void)
{
	struct gntdp_client_domain_conf conf;
	struct gntdp_client *c;
	const char *d = getenv("GNTDP_DOMID");
	char b;
	int rc;

	if (d == NULL) {
		fprintf(stderr, "bind_wait: GNTDP_DOMID is not set\n");
		return 1;
	}
	rc = gntdp_client_connect(NULL, &c);
	if (rc != 0) {
		fprintf(stderr, "bind_wait: connect: %s\n", strerror(-rc));
		return 1;
	}
	gntdp_client_domain_conf_init(&conf);
	conf.domid = (gntdp_domid_t)atoi(d);
	conf.create = true;
	conf.nr_frames = 32;
	rc = gntdp_client_bind(c, &conf);
	if (rc != 0) {
		fprintf(stderr, "bind_wait: bind %s: %s (%s)\n", d, strerror(-rc), gntdp_client_why(c));
		return 1;
	}
	printf("bound\n");
	fflush(stdout);
	while (read(0, &b, 1) > 0)
		;
	gntdp_client_close(c);
	return 0;
}
