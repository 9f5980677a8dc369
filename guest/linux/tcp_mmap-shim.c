// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Linked into the guest's tcp_mmap (guest/linux/build-tcp-mmap.sh).
 *
 * - Transfer size: the selftest hard-codes 32 GiB (FILE_SZ), hours under
 *   TCG.  It is built with -DFILE_SZ=tcp_mmap_file_sz; the default is
 *   TCP_MMAP_DEFAULT_SZ (set at build time, 256 MiB), and the environment
 *   variable TCP_MMAP_FILE_SZ (bytes, or with a K, M or G suffix, powers
 *   of 1024) overrides it at run time.  Sender and receiver must use the
 *   same size: the receiver stops reading there, and with -i the 32 bytes
 *   that follow are the sender's SHA256.
 * - stdout is made line buffered, whatever it is: the server never exits,
 *   so a fully buffered summary line would never be written.
 */
#include <stdio.h>
#include <stdlib.h>
#include "tcp_mmap-shim.h"

#ifndef TCP_MMAP_DEFAULT_SZ
#define TCP_MMAP_DEFAULT_SZ (256ULL << 20)
#endif

unsigned long long tcp_mmap_file_sz = TCP_MMAP_DEFAULT_SZ;

__attribute__((constructor))
static void tcp_mmap_shim_init(void)
{
	const char *s = getenv("TCP_MMAP_FILE_SZ");
	unsigned long long v;
	char *end;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!s || !*s)
		return;
	v = strtoull(s, &end, 0);
	switch (*end) {
	case 'G': case 'g':
		v <<= 10;
		/* fall through */
	case 'M': case 'm':
		v <<= 10;
		/* fall through */
	case 'K': case 'k':
		v <<= 10;
		end++;
		break;
	}
	if (*end || v == 0) {
		fprintf(stderr, "tcp_mmap: bad TCP_MMAP_FILE_SZ '%s'\n", s);
		exit(1);
	}
	tcp_mmap_file_sz = v;
}
