/* Must not compile: the engine layer may not include px_session.h (a layer above it, or
 * a layer's private header). See tests/layers/README.md. */
#include "px_session.h"
int layer_probe_engine_px_session;
