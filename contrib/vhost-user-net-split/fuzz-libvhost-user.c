/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * libvhost-user compiled into vhost-user-net-split-fuzz (its glib glue
 * in fuzz-libvhost-user-glib.c), so that its message and ring code gets
 * the fuzzer's coverage instrumentation: fuzz-coverage-allowlist names
 * this folder, and meson does not let a project name a subproject's
 * sources directly.
 */

#include "../../subprojects/libvhost-user/libvhost-user.c"
