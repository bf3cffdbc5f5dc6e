// `qpipe --version` (see version_text.h).
#include "cli/version_text.h"

#include <wolfssl/options.h>

#include <ngtcp2/ngtcp2.h>
#include <uv.h>
#include <wolfssl/ssl.h>
#include <xxhash.h>
#include <zstd.h>

#include "core/log.h"
#include "version.h"

namespace qpipe::cli {

namespace {
// " (ORIGIN)" after a library's version, when the deps prefix recorded one.
std::string origin(const char* text) {
  return *text ? strprintf(" (%s)", text) : std::string();
}
} // namespace

std::string version_text() {
  const ngtcp2_info* ng = ngtcp2_version(0);
  unsigned xx = XXH_versionNumber();
  return strprintf("qpipe %s\nngtcp2 %s%s, wolfSSL %s%s, libuv %s, zstd %s, xxHash %u.%u.%u\n",
                   QPIPE_VERSION, ng ? ng->version_str : "?", origin(QPIPE_NGTCP2_ORIGIN).c_str(),
                   wolfSSL_lib_version(), origin(QPIPE_WOLFSSL_ORIGIN).c_str(), uv_version_string(),
                   ZSTD_versionString(), xx / 10000, xx / 100 % 100, xx % 100);
}

} // namespace qpipe::cli
