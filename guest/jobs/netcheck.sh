#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest job: is the NIC usable end to end?  Pings the slirp gateway, then
# fetches hello.txt from the host's HTTP server (reached through slirp as
# 10.0.2.2:$GUEST_HTTP_PORT) and compares it with $GUEST_TOKEN, both from
# the kernel command line.  Every check runs so one boot shows them all;
# exit status is non-zero if any failed.
gw=${GUEST_GATEWAY:-10.0.2.2}
rc=0

if [ "${GUEST_NET_OK:-0}" != 1 ]; then
    echo "GUEST: FAIL netcheck: network not configured"
    rc=1
fi

if ping -c 3 -W 2 "$gw" > /tmp/ping.log 2>&1; then
    echo "GUEST: ping ok"
else
    cat /tmp/ping.log
    echo "GUEST: FAIL ping $gw"
    rc=1
fi

if [ -z "${GUEST_HTTP_PORT:-}" ] || [ -z "${GUEST_TOKEN:-}" ]; then
    echo "GUEST: FAIL http: guest.http_port/guest.token not on the command line"
    rc=1
# Not wget -T: Debian's busybox-static 1.35 wget segfaults with it.
elif timeout 20 wget -q -O /tmp/hello.txt "http://$gw:$GUEST_HTTP_PORT/hello.txt"; then
    got=$(cat /tmp/hello.txt)
    if [ "$got" = "$GUEST_TOKEN" ]; then
        echo "GUEST: http ok"
    else
        echo "GUEST: FAIL http token mismatch (got '$got')"
        rc=1
    fi
else
    echo "GUEST: FAIL http fetch http://$gw:$GUEST_HTTP_PORT/hello.txt"
    rc=1
fi
exit $rc
