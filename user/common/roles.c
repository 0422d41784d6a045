// SPDX-License-Identifier: GPL-2.0-only
/* Roles from certificates and private key file modes (roles.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "user/common/log.h"
#include "user/common/roles.h"

static const struct {
	const char *oid;
	unsigned int role;
	const char *name;
} roles[] = {
	{ VNFSEC_OID_AGENT, ROLE_AGENT, "agent" },
	{ VNFSEC_OID_SERVER, ROLE_SERVER, "server" },
	{ VNFSEC_OID_CHILD, ROLE_CHILD, "child-server" },
	{ VNFSEC_OID_OPERATOR, ROLE_OPERATOR, "operator" },
};

unsigned int cert_roles(X509 *cert)
{
	EXTENDED_KEY_USAGE *eku;
	unsigned int mask = 0, k;
	char oid[128];
	int i;

	if (!cert)
		return 0;
	eku = X509_get_ext_d2i(cert, NID_ext_key_usage, NULL, NULL);
	if (!eku)
		return 0;
	for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		int n = OBJ_obj2txt(oid, sizeof(oid),
				    sk_ASN1_OBJECT_value(eku, i), 1);

		if (n <= 0 || n >= (int)sizeof(oid))
			continue;
		for (k = 0; k < sizeof(roles) / sizeof(roles[0]); k++)
			if (!strcmp(oid, roles[k].oid))
				mask |= roles[k].role;
	}
	EXTENDED_KEY_USAGE_free(eku);
	return mask;
}

const char *role_names(unsigned int mask, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int k;

	buf[0] = '\0';
	for (k = 0; k < sizeof(roles) / sizeof(roles[0]); k++) {
		if (!(mask & roles[k].role))
			continue;
		used += snprintf(buf + used, used < len ? len - used : 0,
				 "%s%s", used ? "," : "", roles[k].name);
	}
	if (!used)
		snprintf(buf, len, "none");
	return buf;
}

int key_file_private(const char *path, const char *what)
{
	struct stat st;

	/* A TPM handle, or a file the key loader will complain about. */
	if (!path || stat(path, &st) || !S_ISREG(st.st_mode))
		return 0;
	if (!(st.st_mode & 077))
		return 0;
	log_err("%s %s: private key readable by group or others (mode %04o); run chmod 600 %s",
		what, path, (unsigned int)(st.st_mode & 07777), path);
	return -EPERM;
}
