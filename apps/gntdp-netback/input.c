/* SPDX-License-Identifier: MIT */
/*
 * A port's devargs and files, checked before its vdev is created, so that
 * every mistake ends in one message naming the port, the vdev, the
 * argument, the file and the reason (DPDK's own log names only some):
 *
 *  - net_pcap arguments: an unknown key, or none of rx_pcap / tx_pcap /
 *    iface given;
 *  - rx_pcap: missing, a directory, empty, not a pcap (libpcap's reason),
 *    not Ethernet (DLT_NULL, Linux SLL from `tcpdump -i any`: refused, never
 *    forwarded as garbage); and read through once with libpcap, as net_pcap
 *    will: where reading stops before the end of the file (a record cut
 *    short, an absurd caplen, a pcapng interface of another link type) is
 *    kept in struct port_input, warned about here and reported at the end;
 *  - tx_pcap: a directory, not writable, or the rx_pcap of any port (the
 *    input would be overwritten).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "nb.h"

static const char *const pcap_keys[] = {
	"rx_pcap", "tx_pcap", "rx_iface", "rx_iface_in", "tx_iface", "iface", "phy_mac",
	"infinite_rx",
};

/* The value of key @p key in devargs @p da (after the name), into @p out; false if absent. */
static bool
arg_value(const char *da, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key);

	for (const char *p = strchr(da, ','); p != NULL; p = strchr(p, ',')) {
		p++;
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			size_t vl = strcspn(p + kl + 1, ",");

			if (vl >= len)
				vl = len - 1;
			memcpy(out, p + kl + 1, vl);
			out[vl] = '\0';
			return true;
		}
	}
	return false;
}

/* Whether @p name (a vdev name) is a net_pcap device. */
static bool
is_pcap(const char *name)
{
	return strncmp(name, "net_pcap", 8) == 0 || strncmp(name, "eth_pcap", 8) == 0;
}

#define ERR(idx, name, ...)                                                                     \
	do {                                                                                     \
		fprintf(stderr, "gntdp-netback: port%u %s: ", (idx), (name));                    \
		fprintf(stderr, __VA_ARGS__);                                                    \
		fputc('\n', stderr);                                                             \
	} while (0)

/* Every argument of a net_pcap vdev is one it knows. */
static int
check_pcap_keys(unsigned int idx, const char *name, const char *da)
{
	bool any = false;

	for (const char *p = strchr(da, ','); p != NULL; p = strchr(p, ',')) {
		size_t kl, al;
		bool known = false;

		p++;
		al = strcspn(p, ",");
		kl = strcspn(p, "=,");
		for (size_t k = 0; k < NELEM(pcap_keys); k++)
			known |= strlen(pcap_keys[k]) == kl && strncmp(p, pcap_keys[k], kl) == 0;
		if (!known || p[kl] != '=') {
			ERR(idx, name,
			    "argument '%.*s': %s (net_pcap takes rx_pcap, tx_pcap, rx_iface, "
			    "rx_iface_in, tx_iface, iface, phy_mac, infinite_rx)",
			    (int)al, p, known ? "needs a value" : "unknown argument");
			return -EINVAL;
		}
		any |= (kl != 7 || strncmp(p, "phy_mac", 7) != 0) &&
		       (kl != 11 || strncmp(p, "infinite_rx", 11) != 0);
	}
	if (!any) {
		ERR(idx, name,
		    "no input or output: net_pcap needs rx_pcap=FILE and tx_pcap=FILE (or iface=IF)");
		return -EINVAL;
	}
	return 0;
}

/* rx_pcap: there, a pcap, Ethernet; then read through once to find where reading stops. */
static int
scan_rx(unsigned int idx, const char *name, const char *file, struct port_input *in)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	struct stat st;
	pcap_t *p;
	FILE *fp;
	long off;
	int rc, dlt;

	snprintf(in->rx_file, sizeof(in->rx_file), "%s", file);
	if (stat(file, &st) != 0) {
		ERR(idx, name, "rx_pcap=%s: cannot open: %s", file, strerror(errno));
		return -EINVAL;
	}
	if (S_ISDIR(st.st_mode)) {
		ERR(idx, name, "rx_pcap=%s: is a directory, not a pcap file", file);
		return -EINVAL;
	}
	if (st.st_size == 0) {
		ERR(idx, name, "rx_pcap=%s: empty file, not a pcap file (no header)", file);
		return -EINVAL;
	}
	p = pcap_open_offline(file, err);
	if (p == NULL) {
		ERR(idx, name, "rx_pcap=%s: not a pcap file: %s", file, err);
		return -EINVAL;
	}
	dlt = pcap_datalink(p);
	if (dlt != DLT_EN10MB) {
		const char *dn = pcap_datalink_val_to_name(dlt);

		ERR(idx, name,
		    "rx_pcap=%s: link type %s (%d), not Ethernet: only Ethernet captures are "
		    "forwarded (capture on an interface, not 'any')",
		    file, dn != NULL ? dn : "?", dlt);
		pcap_close(p);
		return -EINVAL;
	}
	fp = pcap_file(p);
	for (;;) {
		off = fp != NULL ? ftell(fp) : -1;
		rc = pcap_next_ex(p, &h, &data);
		if (rc != 1)
			break;
		in->records++;
	}
	if (rc == PCAP_ERROR) {
		in->incomplete = true;
		in->stop_record = in->records + 1;
		in->stop_offset = off >= 0 ? (uint64_t)off : 0;
		snprintf(in->why, sizeof(in->why), "%s", pcap_geterr(p));
		fprintf(stderr,
			"gntdp-netback: port%u %s: rx_pcap=%s: damaged: reading stops at record %" PRIu64
			" (byte %" PRIu64 "): %s; the %" PRIu64 " records before it are read\n",
			idx, name, file, in->stop_record, in->stop_offset, in->why, in->records);
	}
	pcap_close(p);
	return 0;
}

/* Whether @p a and @p b name one file (both must exist). */
static bool
same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* tx_pcap: writable, a file, and nobody's input. */
static int
check_tx(const struct nb_conf *c, unsigned int idx, const char *name, const char *file)
{
	char dir[PATH_MAX], rx[256];
	struct stat st;
	const char *slash;

	if (stat(file, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			ERR(idx, name, "tx_pcap=%s: is a directory", file);
			return -EINVAL;
		}
		if (access(file, W_OK) != 0) {
			ERR(idx, name, "tx_pcap=%s: cannot write: %s", file, strerror(errno));
			return -EINVAL;
		}
		for (unsigned int i = 0; i < c->nb_ports; i++) {
			const char *n = c->ports[i].devargs;

			if (is_pcap(n) && arg_value(n, "rx_pcap", rx, sizeof(rx)) &&
			    same_file(rx, file)) {
				ERR(idx, name,
				    "tx_pcap=%s: is the rx_pcap of port%u: writing it would destroy "
				    "that input",
				    file, i);
				return -EINVAL;
			}
		}
		return 0;
	}
	slash = strrchr(file, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == file)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - file), file);
	if (access(dir, W_OK) != 0) {
		ERR(idx, name, "tx_pcap=%s: cannot create: %s (directory %s)", file, strerror(errno),
		    dir);
		return -EINVAL;
	}
	return 0;
}

int
port_args_check(const struct nb_conf *c, unsigned int idx, struct port_input *in)
{
	const char *da = c->ports[idx].devargs;
	char name[64], file[256];
	size_t l = strcspn(da, ",");
	int rc;

	memset(in, 0, sizeof(*in));
	if (l == 0 || l >= sizeof(name)) {
		fprintf(stderr, "gntdp-netback: port%u: devargs '%s': %s\n", idx, da,
			l == 0 ? "no device name" : "device name too long");
		return -EINVAL;
	}
	memcpy(name, da, l);
	name[l] = '\0';
	if (!is_pcap(name))
		return 0;
	rc = check_pcap_keys(idx, name, da);
	if (rc == 0 && arg_value(da, "rx_pcap", file, sizeof(file)))
		rc = scan_rx(idx, name, file, in);
	if (rc == 0 && arg_value(da, "tx_pcap", file, sizeof(file)))
		rc = check_tx(c, idx, name, file);
	return rc;
}

unsigned int
port_input_report(const struct be *be, FILE *f)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < be->nb_ports; i++) {
		const struct port_input *in = &be->ports[i].in;

		if (!in->incomplete)
			continue;
		fprintf(f,
			"gntdp-netback: port%u %s: input incomplete: rx_pcap=%s: reading stopped at "
			"record %" PRIu64 " (byte %" PRIu64 "): %s\n",
			i, be->ports[i].name, in->rx_file, in->stop_record, in->stop_offset, in->why);
		n++;
	}
	return n;
}
