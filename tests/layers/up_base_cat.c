/* Must not compile: the base layer may not include cat.h (a layer above it, or
 * a layer's private header). See tests/layers/README.md. */
#include "cat.h"
int layer_probe_base_cat;
