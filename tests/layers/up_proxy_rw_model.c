/* Must not compile: the proxy layer may not include rw_model.h (a layer above it, or
 * a layer's private header). See tests/layers/README.md. */
#include "rw_model.h"
int layer_probe_proxy_rw_model;
