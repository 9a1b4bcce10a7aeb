/* Must not compile: the proxy layer may not include cat_core.h (a layer above it, or
 * a layer's private header). See tests/layers/README.md. */
#include "cat_core.h"
int layer_probe_proxy_cat_core;
