// SPDX-License-Identifier: GPL-2.0-only
/*
 * The assessment spool on a real filesystem: what was appended survives a
 * restart until acknowledged, a torn tail is cut, the bound holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "user/agent/spool.h"
#include "user/common/log.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/vnfsec-spool-test.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

static struct spool *reopen(struct spool *sp, size_t max)
{
	struct spool *out;

	spool_close(sp);
	assert_int_equal(0, spool_open(dir, max, &out));
	return out;
}

static void append_n(struct spool *sp, uint64_t first, unsigned int n)
{
	char payload[32];
	unsigned int i;

	for (i = 0; i < n; i++) {
		int len = snprintf(payload, sizeof(payload), "assessment %llu",
				   (unsigned long long)(first + i));

		assert_int_equal(0, spool_append(sp, first + i, payload, len));
	}
}

static void pending_survive_restart_in_order(void **state)
{
	struct spool *sp;

	(void)state;
	assert_int_equal(0, spool_open(dir, 1 << 20, &sp));
	append_n(sp, 100, 5);
	sp = reopen(sp, 1 << 20);
	assert_int_equal(5, spool_pending(sp));
	assert_int_equal(100, spool_get(sp, 0)->id);
	assert_int_equal(104, spool_get(sp, 4)->id);
	assert_memory_equal("assessment 102", spool_get(sp, 2)->data, 14);
	assert_int_equal(104, spool_last_id(sp));
	spool_close(sp);
}

static void acked_are_forgotten_durably(void **state)
{
	struct spool *sp;

	(void)state;
	assert_int_equal(0, spool_open(dir, 1 << 20, &sp));
	append_n(sp, 1, 5);
	assert_int_equal(0, spool_ack(sp, 3));
	assert_int_equal(2, spool_pending(sp));
	sp = reopen(sp, 1 << 20);
	assert_int_equal(2, spool_pending(sp));
	assert_int_equal(4, spool_get(sp, 0)->id);
	/* All acknowledged: the log is emptied, the last id remembered. */
	assert_int_equal(0, spool_ack(sp, 5));
	assert_int_equal(0, spool_bytes(sp));
	sp = reopen(sp, 1 << 20);
	assert_int_equal(0, spool_pending(sp));
	assert_int_equal(5, spool_last_id(sp));
	spool_close(sp);
}

static void torn_write_is_cut_and_earlier_records_kept(void **state)
{
	char path[128];
	struct stat st;
	struct spool *sp;

	(void)state;
	assert_int_equal(0, spool_open(dir, 1 << 20, &sp));
	append_n(sp, 1, 3);
	spool_close(sp);
	/* A crash in the middle of the third record's write. */
	snprintf(path, sizeof(path), "%s/spool.log", dir);
	assert_int_equal(0, stat(path, &st));
	assert_int_equal(0, truncate(path, st.st_size - 5));
	assert_int_equal(0, spool_open(dir, 1 << 20, &sp));
	assert_int_equal(2, spool_pending(sp));
	assert_int_equal(2, spool_get(sp, 1)->id);
	/* The log was repaired: a new append lands after record 2. */
	append_n(sp, 3, 1);
	sp = reopen(sp, 1 << 20);
	assert_int_equal(3, spool_pending(sp));
	assert_int_equal(3, spool_get(sp, 2)->id);
	spool_close(sp);
}

static void corrupt_record_stops_replay(void **state)
{
	char path[128];
	struct spool *sp;
	int fd;

	(void)state;
	assert_int_equal(0, spool_open(dir, 1 << 20, &sp));
	append_n(sp, 1, 3);
	spool_close(sp);
	snprintf(path, sizeof(path), "%s/spool.log", dir);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	/* Flip a payload byte of the second record: its CRC fails. */
	assert_int_equal(1, pwrite(fd, "X", 1, 16 + 12 + 4 + 16 + 3));
	close(fd);
	assert_int_equal(0, spool_open(dir, 1 << 20, &sp));
	assert_int_equal(1, spool_pending(sp));
	spool_close(sp);
}

static void bound_refuses_without_writing(void **state)
{
	struct spool *sp;
	size_t before;

	(void)state;
	assert_int_equal(0, spool_open(dir, 90, &sp));
	append_n(sp, 1, 2);	/* 2 x (16 + 12 + 4) = 64 bytes; 96 > 90 */
	before = spool_bytes(sp);
	assert_int_equal(-ENOSPC, spool_append(sp, 3, "assessment 3", 12));
	assert_int_equal(before, spool_bytes(sp));
	assert_int_equal(2, spool_pending(sp));
	spool_close(sp);
}

static void compaction_keeps_pending_only(void **state)
{
	struct spool *sp;

	(void)state;
	assert_int_equal(0, spool_open(dir, 400, &sp));
	append_n(sp, 1, 8);	/* 256 bytes, above half the bound */
	assert_int_equal(0, spool_ack(sp, 6));
	assert_int_equal(2 * 32, spool_bytes(sp));
	sp = reopen(sp, 400);
	assert_int_equal(2, spool_pending(sp));
	assert_int_equal(7, spool_get(sp, 0)->id);
	spool_close(sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(pending_survive_restart_in_order,
						setup, teardown),
		cmocka_unit_test_setup_teardown(acked_are_forgotten_durably,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			torn_write_is_cut_and_earlier_records_kept, setup,
			teardown),
		cmocka_unit_test_setup_teardown(corrupt_record_stops_replay,
						setup, teardown),
		cmocka_unit_test_setup_teardown(bound_refuses_without_writing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(compaction_keeps_pending_only,
						setup, teardown),
	};

	log_init("test_spool", LOG_CRIT);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
