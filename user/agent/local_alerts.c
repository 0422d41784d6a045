// SPDX-License-Identifier: GPL-2.0-only
/*
 * The standalone agent's alerts (--standalone --eve FILE): with no
 * security server, each assessment becomes an EVE alert line in FILE,
 * the same fields the server writes for it (user/common/eve.c), and is
 * shown on the control socket. Nothing is spooled: the file is the
 * record.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "user/agent/control.h"
#include "user/agent/local_alerts.h"
#include "user/agent/spool.h"
#include "user/common/eve.h"
#include "user/common/log.h"

struct local_alerts {
	const char *path;		/* "-": stdout */
	FILE *f;
	char agent_id[WIRE_AGENT_ID_MAX + 1];
	uint64_t next_id;
	uint64_t write_errors;
	struct control *control;	/* NULL until set */
};

static FILE *open_eve(const char *path)
{
	FILE *f;

	if (!strcmp(path, "-"))
		return stdout;
	f = fopen(path, "a");
	if (!f)
		log_err("cannot open --eve %s: %s; check the path and its directory's permissions",
			path, strerror(errno));
	return f;
}

struct local_alerts *local_alerts_open(const char *path, const char *agent_id)
{
	struct local_alerts *la = calloc(1, sizeof(*la));
	struct timespec now;

	if (!la)
		return NULL;
	la->path = path;
	la->f = open_eve(path);
	if (!la->f) {
		free(la);
		return NULL;
	}
	snprintf(la->agent_id, sizeof(la->agent_id), "%s", agent_id);
	/* Ids grow across restarts, as the uplink's do (microseconds). */
	clock_gettime(CLOCK_REALTIME, &now);
	la->next_id = (uint64_t)now.tv_sec * 1000000ULL + now.tv_nsec / 1000;
	return la;
}

void local_alerts_set_control(struct local_alerts *la, struct control *c)
{
	la->control = c;
}

int local_alerts_reopen(struct local_alerts *la)
{
	FILE *f;

	if (la->f == stdout)
		return 0;
	f = open_eve(la->path);
	if (!f)
		return -EIO;
	fclose(la->f);
	la->f = f;
	return 0;
}

/* The assessment as the server would receive it, then as its alert. */
static int write_alert(struct local_alerts *la, const struct assessment *a)
{
	uint8_t buf[SPOOL_RECORD_MAX];
	Vnfsec__Assessment *m;
	json_object *ev;
	const char *line;
	size_t len;
	int ret;

	ret = uplink_pack_assessment(a, buf, sizeof(buf), &len);
	if (ret)
		return ret;
	m = vnfsec__assessment__unpack(NULL, len, buf);
	if (!m)
		return -ENOMEM;
	ev = eve_event_new(la->agent_id, "alert");
	eve_alert_flow(ev, m);
	eve_alert_body(ev, m);
	line = json_object_to_json_string_length(ev, JSON_C_TO_STRING_PLAIN |
						 JSON_C_TO_STRING_NOSLASHESCAPE,
						 &len);
	/* A line at a time: readers (tail -f, Filebeat) see whole alerts. */
	if (fwrite(line, 1, len, la->f) != len || putc('\n', la->f) == EOF ||
	    fflush(la->f))
		ret = -errno ?: -EIO;
	json_object_put(ev);
	vnfsec__assessment__free_unpacked(m, NULL);
	return ret;
}

void local_alerts_publish(void *ctx, const struct assessment *in)
{
	struct local_alerts *la = ctx;
	struct assessment a = *in;
	int ret;

	a.id = ++la->next_id;
	ret = write_alert(la, &a);
	/* Said at the first failure and every 1000th: never silent. */
	if (ret && la->write_errors++ % 1000 == 0)
		log_err("cannot write alert %llu to --eve %s: %s (%llu lost so far); check disk space",
			(unsigned long long)a.id, la->path, strerror(-ret),
			(unsigned long long)la->write_errors);
	if (la->control)
		control_publish(la->control, &a);
}

void local_alerts_close(struct local_alerts *la)
{
	if (!la)
		return;
	if (la->f && la->f != stdout)
		fclose(la->f);
	free(la);
}
