/* Must not compile: the catalog layer may not include rw.h (a layer above it, or
 * a layer's private header). See tests/layers/README.md. */
#include "rw.h"
int layer_probe_catalog_rw;
