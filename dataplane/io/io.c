/* SPDX-License-Identifier: BSD-3-Clause */
#include "io.h"

void io_destroy(struct io_source *s)
{
	if (s)
		s->ops->destroy(s);
}

void io_progress(struct io_source *s, struct io_progress *p)
{
	p->done = p->total = 0;
	if (s->ops->progress)
		s->ops->progress(s, p);
}

uint64_t io_drops(struct io_source *s)
{
	return s->ops->drops ? s->ops->drops(s) : 0;
}
