/* Must not compile: the catalog layer may not include cat_engine.h (a layer above it, or
 * a layer's private header). See tests/layers/README.md. */
#include "cat_engine.h"
int layer_probe_catalog_cat_engine;
