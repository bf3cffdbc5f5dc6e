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

std::string version_text() {
  const ngtcp2_info* ng = ngtcp2_version(0);
  unsigned xx = XXH_versionNumber();
  return strprintf("qpipe %s\nngtcp2 %s, wolfSSL %s, libuv %s, zstd %s, xxHash %u.%u.%u\n",
                   QPIPE_VERSION, ng ? ng->version_str : "?", wolfSSL_lib_version(),
                   uv_version_string(), ZSTD_versionString(), xx / 10000, xx / 100 % 100, xx % 100);
}

} // namespace qpipe::cli
