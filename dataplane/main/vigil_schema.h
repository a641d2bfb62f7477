/* SPDX-License-Identifier: BSD-3-Clause */
/* The engine's configuration keys (documented in vigil.yaml and by
 * `vigil --help-config`). */
#ifndef VIGIL_SCHEMA_H
#define VIGIL_SCHEMA_H

#include <stddef.h>

#include "cfg.h"

extern const struct cfg_key vigil_schema[];
extern const size_t vigil_schema_len;

#endif
