/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Roles come from certificates, never from what a peer says about itself
 * (docs/security.md). Each role is an extended key usage OID under a
 * UUID arc of our own (ITU-T X.667, 2.25.<uuid>): tools/mkca and the
 * enrollment CA put them in the certificates they issue.
 */
#ifndef VNFSEC_ROLES_H
#define VNFSEC_ROLES_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/x509.h>

#define VNFSEC_ROLE_ARC		"2.25.4079912305783056553571082955078205480"
#define VNFSEC_OID_AGENT	VNFSEC_ROLE_ARC ".1"	/* reports, obeys */
#define VNFSEC_OID_SERVER	VNFSEC_ROLE_ARC ".2"	/* security server */
#define VNFSEC_OID_CHILD	VNFSEC_ROLE_ARC ".3"	/* child server, upward */
#define VNFSEC_OID_OPERATOR	VNFSEC_ROLE_ARC ".4"	/* operator client */

enum vnfsec_role {
	ROLE_AGENT = 1U << 0,
	ROLE_SERVER = 1U << 1,
	ROLE_CHILD = 1U << 2,
	ROLE_OPERATOR = 1U << 3,
};

/* The roles @cert carries (a mask of enum vnfsec_role); 0 for NULL. */
unsigned int cert_roles(X509 *cert);
/* "agent,child-server", "none": for log lines. */
const char *role_names(unsigned int roles, char *buf, size_t len);

/*
 * A private key file must be the owner's alone: 0 when it is (or @path
 * is no file, such as "handle:0x81000002"), else -EPERM after one line
 * telling the operator to chmod 600 it. @what names the option.
 */
int key_file_private(const char *path, const char *what);

#endif /* VNFSEC_ROLES_H */
