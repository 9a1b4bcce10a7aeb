/* Must compile: each header here is one the proxy layer may include (its own,
 * and the public headers of every layer below it). See README.md. */
#include "cat_admin.h"
#include "cat_calendar.h"
#include "cat_engine.h"
#include "cat_part.h"
#include "cat_reply.h"
#include "cat_util.h"
#include "px_log.h"
#include "px_session.h"
#include "rw.h"
#include "rw_lex.h"
#include "rw_limits.h"
int layer_probe_down_ok;
