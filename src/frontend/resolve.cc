// What a front end settles before it starts the engine (see resolve.h).
#include "frontend/resolve.h"

#include <cstdlib>

#include "tls/identity_store.h"
#include "tls/secret.h"

namespace qpipe::frontend {

std::string default_identity_dir() {
  return tls::xdg_data_home() + "/qpipe";
}

std::string default_known_hosts_file() {
  return tls::xdg_config_home() + "/qpipe/known_hosts";
}

std::string default_config_file() {
  return tls::xdg_config_home() + "/qpipe/config";
}

Result<std::optional<std::string>> read_secret(const std::string& file, const char* env_var) {
  if (!file.empty()) {
    auto s = tls::read_secret_file(file);
    if (!s) return s.error();
    return std::optional<std::string>(std::move(*s));
  }
  if (const char* env = std::getenv(env_var); env && *env) return std::optional<std::string>(env);
  return std::optional<std::string>();
}

} // namespace qpipe::frontend
