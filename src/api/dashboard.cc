// The dashboard's routes (see dashboard.h).
#include "api/dashboard.h"

#include "dashboard_assets.h"

namespace qpipe::api {

void add_dashboard_routes(HttpServer& server) {
  for (const EmbeddedAsset& asset : kDashboardAssets) {
    server.route("GET", asset.path, [&asset](const Request&) {
      Response r = text_response(200, std::string(asset.content_type), std::string(asset.body));
      r.headers.set("Content-Security-Policy",
                    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
      r.headers.set("X-Frame-Options", "DENY");
      r.headers.set("X-Content-Type-Options", "nosniff");
      r.headers.set("Referrer-Policy", "no-referrer");
      r.headers.set("Cache-Control", "no-store");
      return r;
    });
  }
}

} // namespace qpipe::api
