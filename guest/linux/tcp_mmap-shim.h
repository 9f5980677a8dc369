/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Forced into the kernel's tcp_mmap.c (gcc -include) by
 * guest/linux/build-tcp-mmap.sh, which also builds it with
 * -DFILE_SZ=tcp_mmap_file_sz: the transfer size becomes a variable that
 * tcp_mmap-shim.c sets from the environment.
 */
#ifndef TCP_MMAP_SHIM_H
#define TCP_MMAP_SHIM_H

extern unsigned long long tcp_mmap_file_sz;

#endif
