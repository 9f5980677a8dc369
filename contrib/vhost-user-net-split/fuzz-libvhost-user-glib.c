/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * libvhost-user's glib glue compiled into vhost-user-net-split-fuzz; see
 * fuzz-libvhost-user.c.
 */

#include "../../subprojects/libvhost-user/libvhost-user-glib.c"
