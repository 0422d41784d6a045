/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Names of the wire's heuristics ("syn_flood", ...), as logs, alerts,
 * metrics and the control sockets print them. One table, made from the
 * Heuristic enum of vnfsec.proto, so a heuristic added there is named
 * everywhere at once.
 */
#ifndef VNFSEC_HEURISTIC_H
#define VNFSEC_HEURISTIC_H

/* "syn_flood" for HEURISTIC_SYN_FLOOD; "unknown" outside the enum. */
const char *heuristic_name(int heuristic);
/* The heuristic named @name as heuristic_name() names it, or -1. */
int heuristic_from_name(const char *name);

#endif /* VNFSEC_HEURISTIC_H */
