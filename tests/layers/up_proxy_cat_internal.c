/* Must not compile: the proxy layer may not include cat_internal.h (a layer above it, or
 * a layer's private header). See tests/layers/README.md. */
#include "cat_internal.h"
int layer_probe_proxy_cat_internal;
