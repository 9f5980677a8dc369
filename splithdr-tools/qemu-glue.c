/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What net/eth.c and util/iov.c need from the rest of QEMU, for programs
 * that link them without QEMU: logging goes to stderr when enabled, and
 * a plain version of the zero check (QEMU's picks SIMD code at start-up).
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/cutils.h"

int qemu_loglevel;

void qemu_log(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

bool buffer_is_zero_ool(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t i;

    for (i = 0; i < len; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}
