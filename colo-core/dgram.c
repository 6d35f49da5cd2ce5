// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Datagram comparison: UDP, ICMP/ICMPv6, other IP protocols, and the classes
 * compared as whole frames (ARP and other ethertypes, fragments, frames the
 * parser could not classify). Within a flow the n-th primary datagram must
 * equal the n-th secondary datagram; across flows order does not matter.
 *
 * Invariant while no checkpoint is pending: at most one side of a flow has
 * frames queued (a frame that finds the other side waiting is compared with
 * its oldest frame at once, and a mismatch makes a checkpoint pending).
 */
#include <string.h>

#include "engine_int.h"

struct dgram_view {
	const uint8_t *bytes;
	uint32_t len;
	uint8_t type, code;
};

static enum colo_reason dgram_compare(uint8_t cls, const struct dgram_view *a,
				      const struct dgram_view *b, int64_t *byte)
{
	int whole = cls == COLO_CLASS_RAW || cls == COLO_CLASS_OTHER ||
		    cls == COLO_CLASS_FRAG;
	enum colo_reason differ = whole ? COLO_DIV_FRAME : COLO_DIV_DATAGRAM;
	uint32_t i;

	*byte = -1;
	if (cls == COLO_CLASS_ICMP && (a->type != b->type || a->code != b->code))
		return COLO_DIV_DATAGRAM;
	if (a->len != b->len)
		return whole ? COLO_DIV_FRAME : COLO_DIV_LENGTH;
	if (!memcmp(a->bytes, b->bytes, a->len))
		return COLO_DIV_NONE;
	for (i = 0; a->bytes[i] == b->bytes[i]; i++)
		;
	*byte = i;
	return differ;
}

void colo_dgram_push(struct colo_engine *e, struct colo_flow *fl, int side,
		     const struct colo_frame *f, const struct colo_parsed *p)
{
	struct colo_held *h = fl->q[!side].head;
	struct dgram_view mine = {
		.bytes = f->data + p->cmp_off, .len = p->cmp_len,
		.type = p->icmp_type, .code = p->icmp_code,
	};
	struct dgram_view theirs;
	enum colo_reason why;
	int64_t byte;

	if (e->pending || !h || fl->q[side].head) {
		colo_engine__hold(e, fl, side, f, p);
		return;
	}
	theirs = (struct dgram_view){
		.bytes = h->f.data + h->cmp_off, .len = h->cmp_len,
		.type = h->icmp_type, .code = h->icmp_code,
	};
	why = dgram_compare(fl->key.cls, &mine, &theirs, &byte);
	if (why != COLO_DIV_NONE) {
		const struct colo_frame *pf = side == COLO_PRIMARY ? f : &h->f;
		const struct colo_frame *sf = side == COLO_PRIMARY ? &h->f : f;

		colo_engine__diverge(e, &fl->key, why, fl->index, byte, pf, sf,
				     side);
		colo_engine__hold(e, fl, side, f, p);
		return;
	}
	fl->index++;
	e->st.compared_bytes += p->cmp_len;
	/* The primary frame goes out first, then the secondary is dropped. */
	if (side == COLO_PRIMARY) {
		colo_engine__give(e, side, f);
		colo_engine__done(e, h);
	} else {
		colo_engine__done(e, h);
		colo_engine__give(e, side, f);
	}
}
