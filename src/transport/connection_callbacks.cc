#include "transport/connection_callbacks.h"

#include <cstdarg>
#include <cstdio>
#include <ngtcp2/ngtcp2_crypto_wolfssl.h>

#include "transport/connection.h"
#include "transport/packet_protection.h"

namespace qpipe::transport::detail {
namespace {

Connection* self(void* user_data) {
  return static_cast<Connection*>(user_data);
}

int cb_recv_stream_data(ngtcp2_conn*, uint32_t flags, int64_t stream_id, uint64_t,
                        const uint8_t* data, size_t datalen, void* user_data, void*) {
  return self(user_data)->recv_stream_data(flags, stream_id, data, datalen);
}
int cb_stream_close(ngtcp2_conn*, uint32_t flags, int64_t stream_id, uint64_t app_error_code,
                    void* user_data, void*) {
  return self(user_data)->stream_close(flags, stream_id, app_error_code);
}
int cb_handshake_completed(ngtcp2_conn*, void* user_data) {
  return self(user_data)->handshake_completed();
}
void cb_rand(uint8_t* dest, size_t destlen, const ngtcp2_rand_ctx*) {
  random_bytes(dest, destlen);
}
int cb_get_new_connection_id(ngtcp2_conn*, ngtcp2_cid* cid, uint8_t* token, size_t cidlen,
                             void* user_data) {
  return self(user_data)->get_new_connection_id(cid, token, cidlen);
}
int cb_remove_connection_id(ngtcp2_conn*, const ngtcp2_cid* cid, void* user_data) {
  return self(user_data)->remove_connection_id(cid);
}
int cb_extend_max_streams(ngtcp2_conn*, uint64_t, void* user_data) {
  return self(user_data)->extend_max_streams();
}
int cb_extend_max_stream_data(ngtcp2_conn*, int64_t stream_id, uint64_t, void* user_data, void*) {
  return self(user_data)->extend_max_stream_data(stream_id);
}
int cb_path_validation(ngtcp2_conn*, uint32_t, const ngtcp2_path* path, const ngtcp2_path*,
                       ngtcp2_path_validation_result res, void* user_data) {
  return self(user_data)->path_validation(path, res == NGTCP2_PATH_VALIDATION_RESULT_SUCCESS);
}
} // namespace

void ngtcp2_debug_log(void*, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
}

ngtcp2_conn* get_conn(ngtcp2_crypto_conn_ref* ref) {
  return self(ref->user_data)->raw();
}

ngtcp2_callbacks make_callbacks(bool server) {
  ngtcp2_callbacks cb{};
  if (server) {
    cb.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
  } else {
    cb.client_initial = ngtcp2_crypto_client_initial_cb;
    cb.recv_retry = ngtcp2_crypto_recv_retry_cb;
  }
  cb.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
  cb.encrypt = seal_packet;
  cb.decrypt = open_packet;
  cb.hp_mask = header_protection_mask;
  cb.update_key = ngtcp2_crypto_update_key_cb;
  cb.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
  cb.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
  cb.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
  cb.version_negotiation = ngtcp2_crypto_version_negotiation_cb;
  cb.rand = cb_rand;
  cb.get_new_connection_id = cb_get_new_connection_id;
  cb.remove_connection_id = cb_remove_connection_id;
  cb.recv_stream_data = cb_recv_stream_data;
  cb.stream_close = cb_stream_close;
  cb.handshake_completed = cb_handshake_completed;
  cb.extend_max_local_streams_uni = cb_extend_max_streams;
  cb.extend_max_local_streams_bidi = cb_extend_max_streams;
  cb.extend_max_stream_data = cb_extend_max_stream_data;
  cb.path_validation = cb_path_validation;
  return cb;
}

} // namespace qpipe::transport::detail
