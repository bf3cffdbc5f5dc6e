#include "core/error.h"

#include <cstring>
#include <uv.h>

namespace qpipe {

std::string Error::message() const {
  if (what.empty()) return why;
  if (why.empty()) return what;
  return what + ": " + why;
}

Error errno_error(Errc code, std::string what, int err) {
  return Error{code, std::move(what), std::strerror(err)};
}

Error uv_error(Errc code, std::string what, int uv_status) {
  return Error{code, std::move(what), uv_strerror(uv_status)};
}

} // namespace qpipe
