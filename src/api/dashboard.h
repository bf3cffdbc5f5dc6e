// The dashboard of `qpipe api`: GET / and its script and style sheet, from
// the files embedded at build time (src/api/dashboard/). Each is served with
// headers that keep the page to itself: a Content-Security-Policy that
// allows this origin only (no inline script, no external asset), no
// framing, no caching and no Referer. The token and origin rules of the
// server apply to these routes as to every other.
#pragma once

#include "api/http_server.h"

namespace qpipe::api {

void add_dashboard_routes(HttpServer& server);

} // namespace qpipe::api
