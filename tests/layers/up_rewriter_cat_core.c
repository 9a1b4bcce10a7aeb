/* Must not compile: the rewriter layer may not include cat_core.h (a layer above it, or
 * a layer's private header). See tests/layers/README.md. */
#include "cat_core.h"
int layer_probe_rewriter_cat_core;
