/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * vhost-user-net-split: the per-queue counters, in the JSON that QEMU's
 * in-process device gives for its split-hdr-stats property (same names,
 * same layout; its fault-injected is device-only).  SIGUSR1 writes them
 * to --stats-file (replaced whole, never half-written) or, without one,
 * to stderr; the file is written once more at exit.
 */

#include "qemu/osdep.h"
#include "qobject/qbool.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "vns.h"

GString *vns_stats_json(VuNetSplit *s)
{
    QList *list = qlist_new();
    GString *json;
    unsigned int i;
    int r;

    for (i = 0; i < s->queue_pairs; i++) {
        VnsRing *ring = &s->rings[i];
        QDict *q = qdict_new();

        qdict_put_int(q, "queue", i);
        qdict_put_bool(q, "enabled", ring->ring_addr != 0);
        qdict_put_int(q, "k", ring->k);
        for (r = 0; r < SPLITHDR_VERDICT__MAX; r++) {
            qdict_put_int(q, splithdr_verdict_name(r), ring->verdicts[r]);
        }
        qdict_put_int(q, "header-bytes", ring->header_bytes);
        qdict_put_int(q, "payload-bytes", ring->payload_bytes);
        qlist_append(list, q);
    }
    json = qobject_to_json_pretty(QOBJECT(list), true);
    g_string_append_c(json, '\n');
    qobject_unref(list);
    return json;
}

void vns_stats_dump(VuNetSplit *s, const char *path)
{
    g_autoptr(GString) json = vns_stats_json(s);
    g_autoptr(GError) err = NULL;

    if (!path) {
        fputs(json->str, stderr);
        return;
    }
    /* A temporary file renamed over the old one: readers see it whole. */
    if (!g_file_set_contents(path, json->str, json->len, &err)) {
        fprintf(stderr, "vhost-user-net-split: --stats-file: %s\n",
                err->message);
    }
}
