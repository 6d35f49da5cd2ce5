// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * TCP stream comparison, table-driven: each case is a script of frames the
 * primary (P) and the secondary (S) send, plus ticks, flushes and the end of
 * input, and the exact log of what the engine did (see harness.h).
 * Positions in the scripts are relative to each side's own ISN: 0 is the SYN,
 * 1 the first payload byte. The sides use different ISNs; the secondary's
 * sits just below 2^32 so its sequence numbers wrap.
 */
#include <stdlib.h>

#include "harness.h"

#define SYN COLO_TCP_SYN
#define FIN COLO_TCP_FIN
#define RST COLO_TCP_RST
#define ACK COLO_TCP_ACK

enum op { END = 0, P, S, TICK, FLUSH, FINISH };

struct step {
	enum op op;
	uint8_t flags;
	uint32_t pos;		/* position relative to the side's ISN */
	const char *data;
	uint32_t ms;		/* time of the step */
	uint32_t seq;		/* absolute sequence number, if nonzero */
};

struct tcase {
	const char *name;
	struct step steps[24];
	const char *expect;
};

static const uint32_t isn[2] = { 1000, 0xffffff00u };

static void run_case(const struct tcase *c)
{
	struct colo_engine_cfg cfg;
	struct harness *h;
	const struct step *s;
	struct pkt_spec spec = {
		.family = 4, .src = "192.0.2.10", .dst = "192.0.2.1",
		.sport = 80, .dport = 40000,
	};

	colo_engine_cfg_default(&cfg);
	h = h_new(&cfg);
	h->flush_on_checkpoint = 0;
	for (s = c->steps; s->op != END; s++) {
		uint64_t ts = (uint64_t)s->ms * MS;

		if (s->op == P || s->op == S) {
			int side = s->op == P ? COLO_PRIMARY : COLO_SECONDARY;
			uint32_t seq = s->seq ? s->seq : isn[side] + s->pos;
			const char *d = s->data ? s->data : "";
			size_t len;

			spec.ip_id = (uint16_t)(h->nframes * 7 + side);	/* not output */
			spec.ttl = side ? 63 : 64;
			len = pkt_tcp(h_slot(h), H_FRAME_CAP, &spec, seq, 77,
				      s->flags | ACK, side ? 100 : 200, NULL, 0,
				      d, strlen(d));
			assert_int_equal(h_push(h, side, len, ts), 0);
		} else if (s->op == TICK) {
			colo_engine__tick(h->e, ts);
		} else if (s->op == FLUSH) {
			h_flush(h);
		} else if (s->op == FINISH) {
			colo_engine__finish(h->e);
		}
	}
	h_end_case(h, c->name, c->expect);
}

#define HS { P, SYN, 0 }, { S, SYN, 0 }

static const struct tcase cases[] = {
	{ "handshake from server side",
	  { HS }, "R1 D2" },
	{ "guest-opened connection: the SYN alone",
	  { { P, SYN, 0 }, { S, SYN, 0 } }, "R1 D2" },
	{ "secondary first, then primary",
	  { { S, SYN, 0 }, { P, SYN, 0 }, { S, 0, 1, "abc" }, { P, 0, 1, "abc" } },
	  "R2 D1 R4 D3" },
	{ "same bytes, different segmentation",
	  { HS, { P, 0, 1, "abcdef" }, { S, 0, 1, "abc" }, { S, 0, 4, "def" } },
	  "R1 D2 D4 R3 D5" },
	{ "primary smaller segments",
	  { HS, { P, 0, 1, "ab" }, { P, 0, 3, "cd" }, { S, 0, 1, "abcde" },
	    { P, 0, 5, "ef" }, { S, 0, 6, "f" } },
	  "R1 D2 R3 R4 D5 R6 D7" },
	{ "payload differs: offset of the first differing byte",
	  { HS, { P, 0, 1, "hello" }, { S, 0, 1, "help!" } },
	  "R1 D2 C:payload@3" },
	{ "difference in a later segment",
	  { HS, { P, 0, 1, "aaaa" }, { S, 0, 1, "aaaa" }, { P, 0, 5, "bbbb" },
	    { S, 0, 5, "bbxb" } },
	  "R1 D2 R3 D4 C:payload@6" },
	{ "retransmission partly over compared bytes is trimmed",
	  { HS, { P, 0, 1, "abcdef" }, { S, 0, 1, "abcdef" },
	    { P, 0, 4, "defghi" }, { S, 0, 7, "ghi" } },
	  "R1 D2 R3 D4 R5 D6" },
	{ "retransmission partly over held bytes",
	  { HS, { P, 0, 1, "abcdef" }, { P, 0, 4, "defghi" },
	    { S, 0, 1, "abcdefghi" } },
	  "R1 D2 R3 R4 D5" },
	{ "full retransmission of compared bytes goes out at once",
	  { HS, { P, 0, 1, "abc" }, { S, 0, 1, "abc" }, { P, 0, 1, "abc" },
	    { S, 0, 1, "abc" } },
	  "R1 D2 R3 D4 R5 D6" },
	{ "retransmission waits behind a held frame (order kept)",
	  { HS, { P, 0, 1, "abc" }, { S, 0, 1, "abc" }, { P, 0, 4, "def" },
	    { P, 0, 1, "abc" }, { S, 0, 4, "def" } },
	  "R1 D2 R3 D4 R5 R6 D7" },
	{ "secondary retransmits with different bytes: not compared twice",
	  { HS, { P, 0, 1, "abc" }, { S, 0, 1, "abc" }, { S, 0, 1, "xyz" } },
	  "R1 D2 R3 D4 D5" },
	{ "pure ACK waits until the secondary reaches its position",
	  { HS, { P, 0, 1, "abc" }, { P, 0, 4 }, { S, 0, 1, "abc" } },
	  "R1 D2 R3 R4 D5" },
	{ "pure ACK at a position both reached goes out at once",
	  { HS, { P, 0, 1 }, { S, 0, 1 } },
	  "R1 D2 R3 D4" },
	{ "FIN at the same position",
	  { HS, { P, FIN, 1, "abcd" }, { S, 0, 1, "ab" }, { S, FIN, 3, "cd" },
	    { P, 0, 6 }, { S, 0, 6 } },
	  "R1 D2 D4 R3 D5 R6 D7" },
	{ "FIN earlier on the secondary",
	  { HS, { P, FIN, 1, "abcd" }, { S, FIN, 1, "ab" } },
	  "R1 D2 C:tcp-fin@2" },
	{ "FIN on the primary only, secondary sends more",
	  { HS, { P, FIN, 1, "ab" }, { S, 0, 1, "abcd" } },
	  "R1 D2 C:tcp-fin@2" },
	{ "SYN on one side only",
	  { { P, SYN, 0 }, { S, 0, 1, "abc" } },
	  "C:tcp-syn@0" },
	{ "RST at the same position",
	  { HS, { P, 0, 1, "ab" }, { S, 0, 1, "ab" }, { P, RST, 3 },
	    { S, RST, 3 } },
	  "R1 D2 R3 D4 R5 D6" },
	{ "RST on the primary, data on the secondary",
	  { HS, { P, RST, 1 }, { S, 0, 1, "ab" } },
	  "R1 D2 C:tcp-rst@0" },
	{ "RST on the secondary at a different position",
	  { HS, { P, 0, 1, "ab" }, { S, RST, 1 } },
	  "R1 D2 C:tcp-rst@0" },
	{ "flow first seen mid-stream aligns on first frames",
	  { { P, 0, 0, "abc", 0, 5555 }, { S, 0, 0, "abc", 0, 77 },
	    { P, 0, 0, "def", 0, 5558 }, { S, 0, 0, "def", 0, 80 } },
	  "R1 D2 R3 D4" },
	{ "mid-stream: primary's ACK waits for the secondary",
	  { { P, 0, 0, NULL, 0, 5555 }, { S, 0, 0, NULL, 0, 77 } },
	  "R1 D2" },
	{ "flush releases held primary frames, drops secondary ones",
	  { HS, { P, 0, 1, "abc" }, { P, 0, 4, "def" }, { S, 0, 1, "abX" },
	    { FLUSH } },
	  "R1 D2 C:payload@2 | R3 R4 D5" },
	{ "after a flush the secondary realigns on its next frame",
	  { HS, { P, 0, 1, "abc" }, { S, 0, 1, "abX" }, { FLUSH },
	    { P, 0, 4, "def" }, { S, 0, 0, "def", 0, 424242 },
	    { P, 0, 7, "g" }, { S, 0, 0, "g", 0, 424245 } },
	  "R1 D2 C:payload@2 | R3 D4 R5 D6 R7 D8" },
	{ "after a flush, the secondary's sequence equals the primary's",
	  { HS, { P, 0, 1, "abc" }, { S, 0, 1, "xyz" }, { FLUSH },
	    { P, 0, 4, "def" }, { S, 0, 0, "def", 0, 1004 } },
	  "R1 D2 C:payload@0 | R3 D4 R5 D6" },
	{ "frames held while a checkpoint is pending, released by flush",
	  { HS, { P, 0, 1, "ab" }, { S, 0, 1, "Xb" }, { P, 0, 3, "cd" },
	    { S, 0, 3, "cd" }, { FLUSH } },
	  "R1 D2 C:payload@0 | R3 D4 R5 D6" },
	{ "unmatched primary frame times out",
	  { { P, SYN, 0, NULL, 0 }, { S, SYN, 0, NULL, 1 },
	    { P, 0, 1, "abc", 10 }, { TICK, 0, 0, NULL, 3000 },
	    { TICK, 0, 0, NULL, 3011 } },
	  "R1 D2 C:timeout@0" },
	{ "unmatched at end of input",
	  { HS, { P, 0, 1, "abc" }, { S, 0, 1, "ab" }, { FINISH } },
	  "R1 D2 D4 C:timeout@2" },
	{ "new connection on a closed 4-tuple starts over",
	  { HS, { P, FIN, 1 }, { S, FIN, 1 },
	    { P, SYN, 0, NULL, 0, 90000 }, { S, SYN, 0, NULL, 0, 12 },
	    { P, 0, 0, "x", 0, 90001 }, { S, 0, 0, "x", 0, 13 } },
	  "R1 D2 R3 D4 R5 D6 R7 D8" },
};

static void test_tcp_case(void **state)
{
	run_case(*state);
}

/* Long stream with wrapping sequence numbers, segmented differently. */
static void test_tcp_long_stream_wraps(void **state)
{
	struct harness *h = h_new(NULL);
	struct pkt_spec spec = {
		.family = 6, .src = "2001:db8::10", .dst = "2001:db8::1",
		.sport = 443, .dport = 50000,
	};
	uint8_t stream[64 * 1024];
	uint32_t ip = 0xfffff000u, is = 0x7ffffff0u;
	size_t po = 0, so = 0, i, len;
	const struct colo_engine_stats *st;

	(void)state;
	for (i = 0; i < sizeof(stream); i++)
		stream[i] = (uint8_t)(i * 31 + (i >> 8));
	len = pkt_tcp(h_slot(h), H_FRAME_CAP, &spec, ip, 1, SYN | ACK, 1,
		      NULL, 0, NULL, 0);
	assert_int_equal(h_push(h, COLO_PRIMARY, len, 1), 0);
	len = pkt_tcp(h_slot(h), H_FRAME_CAP, &spec, is, 1, SYN | ACK, 1,
		      NULL, 0, NULL, 0);
	assert_int_equal(h_push(h, COLO_SECONDARY, len, 1), 0);
	while (po < sizeof(stream) || so < sizeof(stream)) {
		if (po < sizeof(stream)) {
			size_t n = sizeof(stream) - po < 1448 ? sizeof(stream) - po : 1448;

			len = pkt_tcp(h_slot(h), H_FRAME_CAP, &spec,
				      ip + 1 + (uint32_t)po, 1, ACK, 1, NULL, 0,
				      stream + po, n);
			assert_int_equal(h_push(h, COLO_PRIMARY, len, 2), 0);
			po += n;
		}
		if (so < sizeof(stream)) {
			size_t n = sizeof(stream) - so < 1000 ? sizeof(stream) - so : 1000;

			len = pkt_tcp(h_slot(h), H_FRAME_CAP, &spec,
				      is + 1 + (uint32_t)so, 1, ACK, 1, NULL, 0,
				      stream + so, n);
			assert_int_equal(h_push(h, COLO_SECONDARY, len, 2), 0);
			so += n;
		}
		if (h->nframes > H_MAX_FRAMES - 4)
			break;
	}
	st = colo_engine__stats(h->e);
	assert_int_equal(st->compared_bytes, sizeof(stream));
	assert_int_equal(st->checkpoints, 0);
	assert_int_equal(st->held_frames[0] + st->held_frames[1], 0);
	assert_int_equal(st->released, st->pushed[0]);
	h_free(h);
}

/*
 * Randomised: the same byte stream cut into random segments on each side,
 * with random retransmissions (whole or partly overlapping), the two sides
 * interleaved at random. Equal streams must match completely; a stream with
 * one byte changed on the secondary must diverge exactly there.
 */
static uint64_t rnd_state;

static uint32_t rnd(uint32_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)(rnd_state % n);
}

struct seg {
	uint32_t off, len;
};

/* Cut [0, total) into segments with retransmissions; returns the count. */
static size_t make_segments(struct seg *out, size_t cap, uint32_t total)
{
	uint32_t sent = 0;
	size_t n = 0;

	while (sent < total && n + 2 < cap) {
		uint32_t len = 1 + rnd(1448);

		if (len > total - sent)
			len = total - sent;
		out[n++] = (struct seg){ sent, len };
		sent += len;
		if (sent > 1 && rnd(5) == 0) {
			uint32_t a = rnd(sent - 1);
			uint32_t room = sent - a - 1 < 1447 ? sent - a - 1 : 1447;
			uint32_t b = a + 1 + rnd(room);

			out[n++] = (struct seg){ a, b - a };
		}
	}
	assert_int_equal(sent, total);
	return n;
}

static void random_run(uint64_t seed, int corrupt)
{
	static uint8_t stream[2][16384];
	struct seg segs[2][200];
	size_t nseg[2], next[2] = { 0, 0 };
	const uint32_t total = sizeof(stream[0]);
	const uint32_t base[2] = { 0x89abcdefu, 0xfffff000u };
	uint32_t bad = 0;
	struct harness *h = h_new(NULL);
	const struct colo_engine_stats *st = colo_engine__stats(h->e);
	struct pkt_spec spec = {
		.family = 4, .src = "192.0.2.10", .dst = "192.0.2.1",
		.sport = 8080, .dport = 41000,
	};
	uint32_t i;
	int side;

	rnd_state = seed;
	for (i = 0; i < total; i++)
		stream[0][i] = stream[1][i] = (uint8_t)rnd(256);
	if (corrupt) {
		bad = rnd(total);
		stream[1][bad] ^= 0x40;
	}
	for (side = 0; side < 2; side++) {
		size_t len = pkt_tcp(h_slot(h), H_FRAME_CAP, &spec, base[side],
				     1, COLO_TCP_SYN | COLO_TCP_ACK, 1, NULL, 0,
				     NULL, 0);

		assert_int_equal(h_push(h, side, len, MS), 0);
		nseg[side] = make_segments(segs[side], 200, total);
	}
	while (next[0] < nseg[0] || next[1] < nseg[1]) {
		const struct seg *sg;
		size_t len;

		side = rnd(2);
		if (next[side] == nseg[side])
			side = !side;
		sg = &segs[side][next[side]++];
		len = pkt_tcp(h_slot(h), H_FRAME_CAP, &spec,
			      base[side] + 1 + sg->off, 1, COLO_TCP_ACK, 1,
			      NULL, 0, stream[side] + sg->off, sg->len);
		assert_int_equal(h_push(h, side, len, MS), 0);
	}
	if (corrupt) {
		assert_int_equal(st->checkpoints, 1);
		assert_int_equal(h->last.reason, COLO_DIV_PAYLOAD);
		assert_int_equal(h->last.offset, bad);
		assert_true(st->compared_bytes <= bad);
	} else {
		if (st->checkpoints)
			fail_msg("seed %llu: unexpected %s at %llu",
				 (unsigned long long)seed,
				 colo_reason_name(h->last.reason),
				 (unsigned long long)h->last.offset);
		assert_int_equal(st->compared_bytes, total);
		assert_int_equal(st->released, st->pushed[0]);
		assert_int_equal(st->dropped, st->pushed[1]);
		assert_int_equal(st->held_bytes, 0);
	}
	h_free(h);
}

static void test_tcp_random_segmentation(void **state)
{
	uint64_t seed;

	(void)state;
	for (seed = 1; seed <= 200; seed++)
		random_run(seed * 0x9e3779b97f4a7c15ULL, 0);
}

static void test_tcp_random_one_byte_differs(void **state)
{
	uint64_t seed;

	(void)state;
	for (seed = 1; seed <= 200; seed++)
		random_run(seed * 0xc2b2ae3d27d4eb4fULL, 1);
}

int main(void)
{
	enum { NCASES = sizeof(cases) / sizeof(cases[0]) };
	struct CMUnitTest tests[NCASES + 3];
	size_t i;

	for (i = 0; i < NCASES; i++)
		tests[i] = (struct CMUnitTest){
			.name = cases[i].name,
			.test_func = test_tcp_case,
			.initial_state = (void *)&cases[i],
		};
	tests[NCASES] = (struct CMUnitTest)cmocka_unit_test(test_tcp_long_stream_wraps);
	tests[NCASES + 1] = (struct CMUnitTest)cmocka_unit_test(test_tcp_random_segmentation);
	tests[NCASES + 2] = (struct CMUnitTest)cmocka_unit_test(test_tcp_random_one_byte_differs);
	return _cmocka_run_group_tests("tcp", tests, NCASES + 3, NULL, NULL);
}
