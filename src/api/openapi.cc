// The OpenAPI 3 description served at /openapi.json: every endpoint of
// `qpipe api`, with its request and response shapes.
#include <nlohmann/json.hpp>

#include "api/service.h"
#include "version.h"

namespace qpipe::api {

std::string openapi_document() {
  using nlohmann::json;
  json error = {
      {"type", "object"},
      {"required", {"error"}},
      {"properties",
       {{"error",
         {{"type", "object"},
          {"required", {"code", "message"}},
          {"properties", {{"code", {{"type", "string"}}}, {"message", {{"type", "string"}}}}}}}}}};
  json nullable_string = {{"type", "string"}, {"nullable", true}};
  json transfer = {
      {"type", "object"},
      {"required", {"id", "role", "state", "bytes", "wire_bytes", "rate", "started"}},
      {"properties",
       {{"id", {{"type", "string"}}},
        {"role", {{"type", "string"}, {"enum", {"send", "listen"}}}},
        {"state",
         {{"type", "string"}, {"enum", {"pending", "running", "done", "failed", "cancelled"}}}},
        {"bytes", {{"type", "integer"}, {"minimum", 0}}},
        {"wire_bytes", {{"type", "integer"}, {"minimum", 0}}},
        {"rate", {{"type", "number"}, {"description", "bytes per second"}}},
        // The rest of the stats, as the CLI's --stats=json has them.
        {"seconds", {{"type", "number"}}},
        {"ratio", {{"type", "number"}, {"description", "bytes per wire byte"}}},
        {"rtt_ms", {{"type", "number"}}},
        {"lost_packets", {{"type", "integer"}, {"minimum", 0}}},
        {"chunks", {{"type", "integer"}, {"minimum", 0}}},
        {"payload_wire_bytes", {{"type", "integer"}, {"minimum", 0}}},
        {"udp_payload", {{"type", "integer"}, {"minimum", 0}}},
        {"path_changes",
         {{"type", "integer"},
          {"minimum", 0},
          {"description", "times the connection moved to another address pair"}}},
        {"gso", {{"type", "boolean"}}},
        {"gro", {{"type", "boolean"}}},
        {"peer", nullable_string},
        {"fingerprint", nullable_string},
        {"listen", {{"type", "string"}, {"description", "listeners: the bound address"}}},
        {"started", {{"type", "string"}, {"format", "date-time"}}},
        {"finished", {{"type", "string"}, {"format", "date-time"}, {"nullable", true}}},
        {"error", nullable_string}}}};
  json send_request = {
      {"type", "object"},
      {"required", {"peer", "source"}},
      {"additionalProperties", false},
      {"properties",
       {{"peer", {{"type", "string"}, {"example", "host:4433"}}},
        {"source",
         {{"type", "object"},
          {"description", "exactly one of path (relative to --root) and gen"},
          {"additionalProperties", false},
          {"properties",
           {{"path", {{"type", "string"}}},
            {"gen",
             {{"type", "object"},
              {"required", {"size"}},
              {"additionalProperties", false},
              {"properties",
               {{"size", {{"type", "string"}, {"example", "1G"}}},
                {"seed", {{"type", "integer"}, {"minimum", 0}}},
                {"kind",
                 {{"type", "string"}, {"enum", {"random", "zero", "text", "mixed"}}}}}}}}}}}},
        {"zstd", {{"type", "integer"}, {"description", "compression level"}}},
        {"streams", {{"type", "integer"}, {"minimum", 1}, {"maximum", app::kMaxStreams}}},
        {"chunk_size", {{"type", "string"}, {"example", "1M"}}},
        {"limit", {{"type", "string"}, {"example", "100M"}}},
        {"pin", {{"type", "string"}, {"example", "SHA256:..."}}},
        {"insecure", {{"type", "boolean"}}},
        {"secret", {{"type", "string"}}}}}};
  json listener_request = {
      {"type", "object"},
      {"required", {"output"}},
      {"additionalProperties", false},
      {"properties",
       {{"listen", {{"type", "string"}, {"example", ":4433"}}},
        {"output", {{"type", "string"}, {"description", "a file or directory under --root"}}},
        {"keep_listening", {{"type", "boolean"}}},
        {"secret", {{"type", "string"}}}}}};
  auto err = [](const char* what) {
    return json{{"description", what},
                {"content",
                 {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
  };
  auto ok = [](const char* what, json schema) {
    return json{{"description", what}, {"content", {{"application/json", {{"schema", schema}}}}}};
  };
  json tref = {{"$ref", "#/components/schemas/Transfer"}};
  json common = {{"401", err("missing or wrong bearer token")}, {"405", err("method not allowed")}};
  auto with = [&](json responses) {
    for (auto& [k, v] : common.items())
      responses[k] = v;
    return responses;
  };
  json doc = {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "qpipe api"},
        {"version", QPIPE_VERSION},
        {"description", "Starts and reports qpipe transfers, run in-process."}}},
      {"components",
       {{"schemas",
         {{"Error", error},
          {"Transfer", transfer},
          {"SendRequest", send_request},
          {"ListenerRequest", listener_request}}},
        {"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}}},
      {"security", json::array({json{{"bearer", json::array()}}})},
      {"paths",
       {{"/v1/health",
         {{"get",
           {{"summary", "health"},
            {"responses", with({{"200", ok("ok", {{"type", "object"},
                                                  {"properties",
                                                   {{"status", {{"type", "string"}}},
                                                    {"version", {{"type", "string"}}}}}})}})}}}}},
        {"/v1/sends",
         {{"post",
           {{"summary", "start a send"},
            {"requestBody",
             {{"required", true},
              {"content",
               {{"application/json",
                 {{"schema", {{"$ref", "#/components/schemas/SendRequest"}}}}}}}}},
            {"responses", with({{"201", ok("the transfer", tref)},
                                {"400", err("malformed JSON")},
                                {"403", err("a path outside --root")},
                                {"409", err("shutting down")},
                                {"413", err("body too large")},
                                {"422", err("a missing or wrong field, named")}})}}}}},
        {"/v1/listeners",
         {{"post",
           {{"summary", "start a listener"},
            {"requestBody",
             {{"required", true},
              {"content",
               {{"application/json",
                 {{"schema", {{"$ref", "#/components/schemas/ListenerRequest"}}}}}}}}},
            {"responses", with({{"201", ok("the transfer", tref)},
                                {"400", err("malformed JSON")},
                                {"403", err("a path outside --root")},
                                {"409", err("the address is in use, or shutting down")},
                                {"413", err("body too large")},
                                {"422", err("a missing or wrong field, named")}})}}}}},
        {"/v1/transfers",
         {{"get",
           {{"summary", "list transfers"},
            {"responses",
             with({{"200", ok("all transfers",
                              {{"type", "object"},
                               {"properties",
                                {{"transfers", {{"type", "array"}, {"items", tref}}}}}})}})}}}}},
        {"/v1/transfers/{id}",
         {{"parameters", json::array({json{{"name", "id"},
                                           {"in", "path"},
                                           {"required", true},
                                           {"schema", {{"type", "string"}}}}})},
          {"get",
           {{"summary", "one transfer"},
            {"responses", with({{"200", ok("the transfer", tref)}, {"404", err("unknown id")}})}}},
          {"delete",
           {{"summary", "cancel a transfer"},
            {"responses", with({{"200", ok("the transfer, cancelled", tref)},
                                {"404", err("unknown id")},
                                {"409", err("already over")}})}}}}},
        {"/metrics",
         {{"get",
           {{"summary", "Prometheus metrics"},
            {"responses",
             with({{"200",
                    {{"description", "text format 0.0.4"},
                     {"content", {{"text/plain", {{"schema", {{"type", "string"}}}}}}}}}})}}}}},
        {"/openapi.json",
         {{"get",
           {{"summary", "this document"},
            {"responses", with({{"200", ok("OpenAPI 3", {{"type", "object"}})}})}}}}}}}};
  return doc.dump(2);
}

} // namespace qpipe::api
