// The name under which peers agree on the qpipe protocol: the ALPN that a
// sender offers and a listener accepts (TLS, src/tls) for the wire format of
// src/pipeline/wire.h. A new, incompatible wire format gets a new name here.
#pragma once

namespace qpipe {

inline constexpr char kAlpn[] = "qpipe/1";

} // namespace qpipe
