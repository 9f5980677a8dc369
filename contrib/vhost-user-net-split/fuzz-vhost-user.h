/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * vhost-user-net-split-fuzz: the entry points libFuzzer calls.
 */

#ifndef VNS_FUZZ_VHOST_USER_H
#define VNS_FUZZ_VHOST_USER_H

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
