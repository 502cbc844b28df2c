#include "agent/tls/tls_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "agent/tls/internal/x509_info.h"

namespace postwarden::agent::tls {
namespace {

using Deadline = TlsClientSession::Deadline;

// Enough for a full TLS record (16 KiB plus overhead) in one go.
constexpr size_t kChunkSize = 17 * 1024;

bool isIpLiteral(const std::string& name) {
  unsigned char address[16];
  return inet_pton(AF_INET, name.c_str(), address) == 1 ||
         inet_pton(AF_INET6, name.c_str(), address) == 1;
}

// Waits until `fd` is ready for `events` or the deadline passes.
Status waitFor(int fd, short events, Deadline deadline) {
  for (;;) {
    const auto remaining =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (remaining.count() <= 0) return DeadlineExceededError("timed out during TLS");
    pollfd descriptor{fd, events, 0};
    const int ready =
        poll(&descriptor, 1, static_cast<int>(std::min<int64_t>(remaining.count(), INT_MAX)));
    if (ready > 0) return OkStatus();  // POLLERR/POLLHUP surface in the following recv/send
    if (ready < 0 && errno != EINTR) return ErrnoToStatus(errno, "poll");
  }
}

Status sendAll(int fd, const char* data, size_t size, Deadline deadline) {
  while (size > 0) {
    const ssize_t sent = send(fd, data, size, MSG_NOSIGNAL);
    if (sent > 0) {
      data += sent;
      size -= static_cast<size_t>(sent);
      continue;
    }
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      PW_RETURN_IF_ERROR(waitFor(fd, POLLOUT, deadline));
      continue;
    }
    return UnavailableError(std::string("sending TLS data: ") + std::strerror(errno));
  }
  return OkStatus();
}

}  // namespace

TlsClientSession::TlsClientSession(int fd, SslCtxPtr context, SslPtr ssl)
    : fd_(fd), context_(std::move(context)), ssl_(std::move(ssl)) {
  network_in_ = SSL_get_rbio(ssl_.get());
  network_out_ = SSL_get_wbio(ssl_.get());
}

TlsClientSession::~TlsClientSession() = default;

Result<std::unique_ptr<TlsClientSession>> TlsClientSession::handshake(
    int fd, const TlsClientOptions& options, Deadline deadline) {
  ERR_clear_error();
  SslCtxPtr context(SSL_CTX_new(TLS_client_method()));
  if (!context) return InternalError("creating a TLS context: " + takeOpensslErrors());
  // No CA verification on purpose: MX hosts commonly use self-signed certificates, and the
  // caller judges names and dates itself. Protocol floor and ciphers stay at the system
  // OpenSSL defaults, so a server needing something weaker shows up as a failed handshake.
  SSL_CTX_set_verify(context.get(), SSL_VERIFY_NONE, nullptr);
  // Many SMTP servers close the TCP connection after QUIT without close_notify; treat that as
  // an ordinary end of stream rather than an error.
  SSL_CTX_set_options(context.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (options.only_version) {
    if (SSL_CTX_set_min_proto_version(context.get(), *options.only_version) != 1 ||
        SSL_CTX_set_max_proto_version(context.get(), *options.only_version) != 1 ||
        SSL_CTX_set_cipher_list(context.get(), "DEFAULT@SECLEVEL=0") != 1) {
      return InternalError("limiting the TLS version: " + takeOpensslErrors());
    }
  }
  if (options.cipher_list) {
    if (SSL_CTX_set_cipher_list(context.get(), options.cipher_list->c_str()) != 1 ||
        SSL_CTX_set_max_proto_version(context.get(), TLS1_2_VERSION) != 1) {
      return InternalError("setting the cipher list '" + *options.cipher_list +
                           "': " + takeOpensslErrors());
    }
  }

  SslPtr ssl(SSL_new(context.get()));
  BIO* network_in = BIO_new(BIO_s_mem());
  BIO* network_out = BIO_new(BIO_s_mem());
  if (!ssl || network_in == nullptr || network_out == nullptr) {
    BIO_free(network_in);
    BIO_free(network_out);
    return InternalError("creating a TLS session: " + takeOpensslErrors());
  }
  SSL_set_bio(ssl.get(), network_in, network_out);  // ssl now owns both BIOs
  SSL_set_connect_state(ssl.get());
  if (options.server_name && !options.server_name->empty() && !isIpLiteral(*options.server_name)) {
    if (SSL_set_tlsext_host_name(ssl.get(), options.server_name->c_str()) != 1) {
      return InternalError("setting SNI: " + takeOpensslErrors());
    }
  }

  const int flags = fcntl(fd, F_GETFL, 0);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return ErrnoToStatus(errno, "making the socket non-blocking");
  }

  std::unique_ptr<TlsClientSession> session(
      new TlsClientSession(fd, std::move(context), std::move(ssl)));
  PW_ASSIGN_OR_RETURN(int done,
                      session->drive([&] { return SSL_do_handshake(session->ssl_.get()); },
                                     "TLS handshake", deadline));
  if (done <= 0) return UnavailableError("TLS handshake failed: connection closed by peer");

  session->version_ = SSL_get_version(session->ssl_.get());
  session->cipher_ = SSL_get_cipher_name(session->ssl_.get());
  X509Ptr peer(SSL_get1_peer_certificate(session->ssl_.get()));
  if (peer) {
    auto info = internal::describeCertificate(peer.get());
    if (info.ok()) session->peer_certificate_ = std::move(info).value();
    if (options.check_chain) {
      session->chain_ =
          checkChainAgainstSystemStore(peer.get(), SSL_get_peer_cert_chain(session->ssl_.get()));
    }
  }
  EVP_PKEY* ephemeral = nullptr;
  if (SSL_get_peer_tmp_key(session->ssl_.get(), &ephemeral) == 1 && ephemeral != nullptr) {
    EvpPkeyPtr owned(ephemeral);
    session->key_exchange_ = EVP_PKEY_get_base_id(ephemeral) == EVP_PKEY_DH ? "DH" : "ECDH";
    session->key_exchange_bits_ = EVP_PKEY_get_bits(ephemeral);
  }
  ERR_clear_error();
  return session;
}

template <typename Operation>
Result<int> TlsClientSession::drive(Operation operation, std::string_view what, Deadline deadline) {
  for (;;) {
    ERR_clear_error();
    const int result = operation();
    const int error = result > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_.get(), result);
    const std::string reason = (error == SSL_ERROR_SSL || error == SSL_ERROR_SYSCALL)
                                   ? takeOpensslErrors("connection closed by peer")
                                   : std::string();
    // Whatever OpenSSL produced (handshake records, alerts, data) must reach the peer, also
    // when the operation failed: a fatal alert tells the server why.
    const Status flushed = flushOutput(deadline);
    switch (error) {
      case SSL_ERROR_NONE:
        PW_RETURN_IF_ERROR(flushed);
        return result;
      case SSL_ERROR_ZERO_RETURN:
        return 0;
      case SSL_ERROR_WANT_WRITE:  // memory BIOs never fill up; flushing was all it needed
        PW_RETURN_IF_ERROR(flushed);
        continue;
      case SSL_ERROR_WANT_READ: {
        PW_RETURN_IF_ERROR(flushed);
        bool peer_closed = false;
        PW_RETURN_IF_ERROR(receiveInput(deadline, &peer_closed));
        // From now on the memory BIO reports end of stream instead of "try again", so OpenSSL
        // decides whether that EOF is acceptable at this point.
        if (peer_closed) BIO_set_mem_eof_return(network_in_, 0);
        continue;
      }
      default:
        return UnavailableError(std::string(what) + " failed: " + reason);
    }
  }
}

Status TlsClientSession::flushOutput(Deadline deadline) {
  char buffer[kChunkSize];
  while (BIO_ctrl_pending(network_out_) > 0) {
    const int taken = BIO_read(network_out_, buffer, sizeof(buffer));
    if (taken <= 0) break;
    PW_RETURN_IF_ERROR(sendAll(fd_, buffer, static_cast<size_t>(taken), deadline));
  }
  return OkStatus();
}

Status TlsClientSession::receiveInput(Deadline deadline, bool* peer_closed) {
  char buffer[kChunkSize];
  for (;;) {
    const ssize_t received = recv(fd_, buffer, sizeof(buffer), 0);
    if (received > 0) {
      if (BIO_write(network_in_, buffer, static_cast<int>(received)) != received) {
        return InternalError("buffering TLS data: " + takeOpensslErrors());
      }
      return OkStatus();
    }
    if (received == 0) {
      *peer_closed = true;
      return OkStatus();
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      PW_RETURN_IF_ERROR(waitFor(fd_, POLLIN, deadline));
      continue;
    }
    return UnavailableError(std::string("receiving TLS data: ") + std::strerror(errno));
  }
}

Result<size_t> TlsClientSession::read(std::span<char> buffer, Deadline deadline) {
  if (buffer.empty()) return size_t{0};
  const int size = static_cast<int>(std::min<size_t>(buffer.size(), INT_MAX));
  PW_ASSIGN_OR_RETURN(int read, drive([&] { return SSL_read(ssl_.get(), buffer.data(), size); },
                                      "TLS read", deadline));
  return static_cast<size_t>(std::max(read, 0));
}

Status TlsClientSession::writeAll(std::string_view data, Deadline deadline) {
  while (!data.empty()) {
    const int size = static_cast<int>(std::min<size_t>(data.size(), INT_MAX));
    PW_ASSIGN_OR_RETURN(int written, drive([&] { return SSL_write(ssl_.get(), data.data(), size); },
                                           "TLS write", deadline));
    if (written <= 0) return UnavailableError("TLS write failed: connection closed by peer");
    data.remove_prefix(static_cast<size_t>(written));
  }
  return OkStatus();
}

void TlsClientSession::closeNotify() {
  ERR_clear_error();
  SSL_shutdown(ssl_.get());
  // One non-blocking attempt: a deadline of "now" never waits.
  (void)flushOutput(std::chrono::steady_clock::now());
  ERR_clear_error();
}

}  // namespace postwarden::agent::tls
