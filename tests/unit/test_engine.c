// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Engine-wide rules: arguments, memory and flow limits (a checkpoint, never a
 * lost frame), the flow table growing and shrinking, idle and closed flows
 * leaving, timeouts, coalescing of demands, end of input.
 */
#include <errno.h>
#include <stdlib.h>

#include "harness.h"

static size_t udp(struct harness *h, uint16_t port, const char *payload)
{
	struct pkt_spec spec = {
		.family = 4, .src = "192.0.2.10", .dst = "192.0.2.1",
		.sport = port, .dport = 9,
	};

	return pkt_udp(h_slot(h), H_FRAME_CAP, &spec, payload, strlen(payload));
}

static size_t tcp(struct harness *h, uint16_t port, uint32_t seq, uint8_t flags)
{
	struct pkt_spec spec = {
		.family = 4, .src = "192.0.2.10", .dst = "192.0.2.1",
		.sport = port, .dport = 9,
	};

	return pkt_tcp(h_slot(h), H_FRAME_CAP, &spec, seq, 1,
		       flags | COLO_TCP_ACK, 1, NULL, 0, NULL, 0);
}

static void test_engine_bad_arguments(void **state)
{
	struct colo_engine_cfg cfg;
	struct colo_engine_ops none = { 0 };
	struct harness *h = h_new(NULL);
	struct colo_frame f = { .data = NULL, .len = 10 };

	(void)state;
	colo_engine_cfg_default(&cfg);
	errno = 0;
	assert_null(colo_engine__new(&cfg, &none, NULL));
	assert_int_equal(errno, EINVAL);
	cfg.timeout_ns = 0;
	errno = 0;
	assert_null(colo_engine__new(&cfg, &h_ops, NULL));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(colo_engine__push(h->e, COLO_PRIMARY, &f), -EINVAL);
	assert_int_equal(colo_engine__push(h->e, 7, &f), -EINVAL);
	assert_int_equal(colo_engine__push(h->e, COLO_PRIMARY, NULL), -EINVAL);
	assert_string_equal(colo_reason_name(COLO_DIV_PAYLOAD), "payload");
	assert_string_equal(colo_reason_name(99), "unknown");
	h_free(h);
}

static void test_engine_flow_limit(void **state)
{
	struct colo_engine_cfg cfg;
	struct harness *h;
	int i, refused = 0;

	(void)state;
	colo_engine_cfg_default(&cfg);
	cfg.flow_max_frames = 4;
	h = h_new(&cfg);
	for (i = 0; i < 12; i++) {
		size_t len = udp(h, 53, "held");
		int ret = h_push(h, COLO_PRIMARY, len, MS);

		if (ret == -ENOBUFS) {
			refused++;
			h->nframes--;	/* still ours: reuse the slot */
		} else {
			assert_int_equal(ret, 0);
		}
	}
	/* Soft limit (4) demands a checkpoint, hard limit (8) refuses. */
	assert_string_equal(h_log(h), "C:flow-limit@0");
	assert_int_equal(refused, 4);
	assert_int_equal(colo_engine__stats(h->e)->held_frames[0], 8);
	assert_int_equal(colo_engine__stats(h->e)->refused, 4);
	colo_engine__flush(h->e);
	assert_string_equal(h_log(h), "C:flow-limit@0 R1 R2 R3 R4 R5 R6 R7 R8");
	assert_int_equal(colo_engine__stats(h->e)->flushed_released, 8);
	h_free(h);
}

static void test_engine_memory_limit(void **state)
{
	struct colo_engine_cfg cfg;
	struct harness *h;
	int i;

	(void)state;
	colo_engine_cfg_default(&cfg);
	cfg.total_max_bytes = 300;	/* five 60-byte frames */
	h = h_new(&cfg);
	for (i = 0; i < 6; i++)
		assert_int_equal(h_push(h, COLO_SECONDARY, udp(h, 100 + i, "x"), MS), 0);
	assert_string_equal(h_log(h), "C:memory-limit@0");
	assert_int_equal(h->last.side, COLO_SECONDARY);
	h_free(h);
}

static void test_engine_table_limit(void **state)
{
	struct colo_engine_cfg cfg;
	struct harness *h;
	int i;

	(void)state;
	colo_engine_cfg_default(&cfg);
	cfg.max_flows = 4;
	h = h_new(&cfg);
	/* Matched flows hold nothing: they are reclaimed, no demand. */
	for (i = 0; i < 6; i++) {
		assert_int_equal(h_push(h, COLO_PRIMARY, udp(h, 100 + i, "x"), MS), 0);
		assert_int_equal(h_push(h, COLO_SECONDARY, udp(h, 100 + i, "x"), MS), 0);
	}
	assert_int_equal(colo_engine__stats(h->e)->checkpoints, 0);
	/* Flows with held frames cannot leave: the fifth demands a checkpoint,
	 * past twice the limit pushes are refused. */
	for (i = 0; i < 8; i++)
		assert_int_equal(h_push(h, COLO_PRIMARY, udp(h, 200 + i, "x"), MS), 0);
	assert_int_equal(colo_engine__stats(h->e)->checkpoints, 1);
	assert_int_equal(colo_engine__stats(h->e)->by_reason[COLO_DIV_TABLE_LIMIT], 1);
	assert_int_equal(h_push(h, COLO_PRIMARY, udp(h, 300, "x"), MS), -ENOBUFS);
	h->nframes--;
	colo_engine__flush(h->e);
	assert_int_equal(colo_engine__stats(h->e)->flushed_released, 8);
	/* The flush made room: nothing is held, empty flows left. */
	assert_true(colo_engine__stats(h->e)->flows < 4);
	assert_int_equal(h_push(h, COLO_PRIMARY, udp(h, 300, "x"), MS), 0);
	h_free(h);
}

static void test_engine_table_grows_and_shrinks(void **state)
{
	struct harness *h = h_new(NULL);
	const struct colo_engine_stats *st = colo_engine__stats(h->e);
	int i;

	(void)state;
	/* 400 flows each holding a primary frame: the table grows, nothing
	 * is lost, idle time does not remove flows that hold frames. */
	for (i = 0; i < 400; i++)
		assert_int_equal(h_push(h, COLO_PRIMARY, udp(h, 1000 + i, "q"), MS), 0);
	assert_int_equal(st->flows, 400);
	colo_engine__tick(h->e, 2 * MS);
	assert_int_equal(st->flows, 400);
	for (i = 0; i < 100; i++)
		assert_int_equal(h_push(h, COLO_SECONDARY, udp(h, 1000 + i, "q"), 2 * MS), 0);
	assert_int_equal(st->released, 100);
	/* Idle: the 100 matched flows leave; the 300 holding frames stay
	 * (and time out, which demands one checkpoint). */
	colo_engine__tick(h->e, 70000 * MS);
	assert_int_equal(st->flows, 300);
	assert_int_equal(st->checkpoints, 1);
	colo_engine__flush(h->e);
	colo_engine__tick(h->e, 140000 * MS);
	assert_int_equal(st->flows, 0);
	assert_int_equal(st->flows_created, 400);
	assert_int_equal(st->flows_removed, 400);
	h_free(h);
}

static void test_engine_closed_flow_lingers_then_leaves(void **state)
{
	struct harness *h = h_new(NULL);
	const struct colo_engine_stats *st = colo_engine__stats(h->e);

	(void)state;
	assert_int_equal(h_push(h, COLO_PRIMARY, tcp(h, 80, 100, COLO_TCP_SYN), MS), 0);
	assert_int_equal(h_push(h, COLO_SECONDARY, tcp(h, 80, 900, COLO_TCP_SYN), MS), 0);
	assert_int_equal(h_push(h, COLO_PRIMARY, tcp(h, 80, 101, COLO_TCP_FIN), MS), 0);
	assert_int_equal(h_push(h, COLO_SECONDARY, tcp(h, 80, 901, COLO_TCP_FIN), MS), 0);
	assert_string_equal(h_log(h), "R1 D2 R3 D4");
	colo_engine__tick(h->e, 1000 * MS);
	assert_int_equal(st->flows, 1);		/* lingers for late ACKs */
	assert_int_equal(h_push(h, COLO_PRIMARY, tcp(h, 80, 102, 0), 1000 * MS), 0);
	assert_int_equal(h_push(h, COLO_SECONDARY, tcp(h, 80, 902, 0), 1000 * MS), 0);
	assert_string_equal(h_log(h), "R1 D2 R3 D4 R5 D6");
	colo_engine__tick(h->e, 4000 * MS);
	assert_int_equal(st->flows, 0);		/* closed and quiet: gone */
	h_free(h);
}

static void test_engine_open_tcp_flow_survives_linger(void **state)
{
	struct harness *h = h_new(NULL);

	(void)state;
	h_push(h, COLO_PRIMARY, tcp(h, 81, 100, COLO_TCP_SYN), MS);
	h_push(h, COLO_SECONDARY, tcp(h, 81, 900, COLO_TCP_SYN), MS);
	colo_engine__tick(h->e, 10000 * MS);
	assert_int_equal(colo_engine__stats(h->e)->flows, 1);
	h_free(h);
}

static void test_engine_demands_coalesce(void **state)
{
	struct harness *h = h_new(NULL);
	const struct colo_engine_stats *st = colo_engine__stats(h->e);

	(void)state;
	h_push(h, COLO_PRIMARY, udp(h, 1, "a"), MS);
	h_push(h, COLO_SECONDARY, udp(h, 1, "b"), MS);
	h_push(h, COLO_PRIMARY, udp(h, 2, "c"), MS);
	h_push(h, COLO_SECONDARY, udp(h, 2, "d"), MS);
	colo_engine__tick(h->e, 10000 * MS);
	assert_true(colo_engine__pending(h->e));
	assert_string_equal(h_log(h), "C:datagram@0");
	assert_int_equal(st->checkpoints, 1);
	colo_engine__flush(h->e);
	assert_false(colo_engine__pending(h->e));
	assert_int_equal(st->held_frames[0] + st->held_frames[1], 0);
	assert_int_equal(st->held_bytes, 0);
	h_free(h);
}

static void test_engine_timeout_uses_frame_time(void **state)
{
	struct harness *h = h_new(NULL);

	(void)state;
	h_push(h, COLO_PRIMARY, udp(h, 1, "a"), 1000 * MS);
	colo_engine__tick(h->e, 3999 * MS);
	assert_string_equal(h_log(h), "");
	colo_engine__tick(h->e, 4001 * MS);
	assert_string_equal(h_log(h), "C:timeout@0");
	assert_int_equal(h->last.side, COLO_PRIMARY);
	h_free(h);
}

static void test_engine_secondary_only_output_times_out(void **state)
{
	struct harness *h = h_new(NULL);

	(void)state;
	h_push(h, COLO_SECONDARY, udp(h, 1, "extra"), MS);
	colo_engine__tick(h->e, 5000 * MS);
	assert_string_equal(h_log(h), "C:timeout@0");
	assert_int_equal(h->last.side, COLO_SECONDARY);
	h_free(h);
}

static void test_engine_finish_reports_and_marks_pending(void **state)
{
	struct harness *h = h_new(NULL);

	(void)state;
	h_push(h, COLO_PRIMARY, udp(h, 1, "a"), MS);
	h_push(h, COLO_PRIMARY, udp(h, 2, "b"), MS);
	h_push(h, COLO_PRIMARY, udp(h, 1, "c"), MS);
	assert_int_equal(colo_engine__finish(h->e), 2);
	assert_true(colo_engine__pending(h->e));
	assert_int_equal(colo_engine__stats(h->e)->checkpoints, 1);
	assert_int_equal(colo_engine__finish(h->e), 2);	/* repeatable */
	assert_int_equal(colo_engine__stats(h->e)->checkpoints, 1);
	h_free(h);
}

static void test_engine_free_hands_everything_back(void **state)
{
	struct harness *h = h_new(NULL);

	(void)state;
	h_push(h, COLO_PRIMARY, udp(h, 1, "a"), MS);
	h_push(h, COLO_SECONDARY, udp(h, 2, "b"), MS);
	h_push(h, COLO_PRIMARY, tcp(h, 80, 5, COLO_TCP_SYN), MS);
	h_free(h);	/* asserts each frame came back exactly once */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine_bad_arguments),
		cmocka_unit_test(test_engine_flow_limit),
		cmocka_unit_test(test_engine_memory_limit),
		cmocka_unit_test(test_engine_table_limit),
		cmocka_unit_test(test_engine_table_grows_and_shrinks),
		cmocka_unit_test(test_engine_closed_flow_lingers_then_leaves),
		cmocka_unit_test(test_engine_open_tcp_flow_survives_linger),
		cmocka_unit_test(test_engine_demands_coalesce),
		cmocka_unit_test(test_engine_timeout_uses_frame_time),
		cmocka_unit_test(test_engine_secondary_only_output_times_out),
		cmocka_unit_test(test_engine_finish_reports_and_marks_pending),
		cmocka_unit_test(test_engine_free_hands_everything_back),
	};

	return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
