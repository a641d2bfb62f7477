/* SPDX-License-Identifier: BSD-3-Clause */
#include "ctr.h"

static const char *const ctr_names[CTR__COUNT] = {
#define CTR_NAME(id, name, help) [CTR_##id] = name,
	CTR_TABLE(CTR_NAME)
#undef CTR_NAME
};

static const char *const ctr_helps[CTR__COUNT] = {
#define CTR_HELP(id, name, help) [CTR_##id] = help,
	CTR_TABLE(CTR_HELP)
#undef CTR_HELP
};

const char *ctr_name(enum ctr_id id)
{
	return (unsigned)id < CTR__COUNT ? ctr_names[id] : "?";
}

const char *ctr_help(enum ctr_id id)
{
	return (unsigned)id < CTR__COUNT ? ctr_helps[id] : "?";
}

void ctr_accumulate(struct ctr_block *dst, const struct ctr_block *src)
{
	for (int i = 0; i < CTR__COUNT; i++)
		dst->v[i] += ctr_read(src, (enum ctr_id)i);
}
