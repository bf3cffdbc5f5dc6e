// The C side of Connection: the ngtcp2 callbacks, each a trampoline into a
// member of the Connection in user_data, and the callback table of a client
// or a server connection. Internal to src/transport.
#pragma once

#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

namespace qpipe::transport::detail {

ngtcp2_callbacks make_callbacks(bool server);
// For ngtcp2_crypto_conn_ref: the ngtcp2_conn of the Connection in user_data.
ngtcp2_conn* get_conn(ngtcp2_crypto_conn_ref* ref);
// ngtcp2's debug log (-vv), one line each on stderr.
void ngtcp2_debug_log(void* user_data, const char* fmt, ...);

} // namespace qpipe::transport::detail
