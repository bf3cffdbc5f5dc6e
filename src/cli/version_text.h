// `qpipe --version`: qpipe's version and those of the libraries it was
// built with.
#pragma once

#include <string>

namespace qpipe::cli {

std::string version_text();

} // namespace qpipe::cli
