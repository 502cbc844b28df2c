// A TLS client session over a TCP socket the caller already owns, e.g. an SMTP connection
// right after "220 Ready to start TLS". Every operation is bounded by a caller-given deadline,
// so a peer that stalls mid-handshake cannot hang the caller. The peer certificate is
// captured but NOT verified against any CA (self-signed certificates are normal on MX hosts);
// callers judge it with matchesName() and the validity times.
// OpenSSL talks to memory BIOs and this class moves the bytes with send(MSG_NOSIGNAL), so a
// peer that resets the connection yields a Status, never SIGPIPE.
// Not thread-safe: one session per connection, used from one thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "agent/tls/certificate_check.h"
#include "agent/tls/peer_chain.h"
#include "common/openssl_handles.h"
#include "common/status.h"

namespace postwarden::agent::tls {

struct TlsClientOptions {
  // Sent as SNI (RFC 6066) when set and not an IP address literal.
  std::optional<std::string> server_name;
  // When set, the handshake offers exactly this protocol version (e.g. TLS1_1_VERSION) and
  // nothing else, with OpenSSL's security level lowered to 0 (DEFAULT@SECLEVEL=0) so that the
  // client itself does not refuse TLS 1.0/1.1 or their ciphers: a scanner's "does the server
  // still accept TLS 1.1" question. Unset: the system OpenSSL defaults.
  std::optional<int> only_version;
  // When set, the TLS 1.2-and-older cipher list (SSL_CTX_set_cipher_list syntax, e.g.
  // "aNULL:@SECLEVEL=0"); TLS 1.3 suites are then disabled so that only these are offered.
  std::optional<std::string> cipher_list;
  // Also judge the chain the server sent against the system trust store (peer_chain.h).
  bool check_chain = false;
};

class TlsClientSession {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  // Performs the client handshake on `fd` (borrowed; the caller keeps ownership and closes
  // it after the session is destroyed). `fd` is switched to non-blocking mode.
  // Errors: DeadlineExceeded (the peer did not finish the handshake in time), Unavailable
  // (the peer closed or reset the connection, or sent an alert / non-TLS data; the message
  // carries OpenSSL's reason), Internal (OpenSSL could not set up a context).
  static Result<std::unique_ptr<TlsClientSession>> handshake(int fd,
                                                             const TlsClientOptions& options,
                                                             Deadline deadline);

  ~TlsClientSession();
  TlsClientSession(const TlsClientSession&) = delete;
  TlsClientSession& operator=(const TlsClientSession&) = delete;

  // Reads at most buffer.size() decrypted bytes, waiting until at least one is available.
  // Returns 0 when the peer closed the connection. Errors: DeadlineExceeded, Unavailable.
  Result<size_t> read(std::span<char> buffer, Deadline deadline);

  // Encrypts and sends all of `data`. Errors: DeadlineExceeded, Unavailable.
  Status writeAll(std::string_view data, Deadline deadline);

  // Sends close_notify without waiting for the peer's; best effort, never blocks.
  void closeNotify();

  const std::string& version() const { return version_; }  // "TLSv1.3"
  const std::string& cipher() const { return cipher_; }    // "TLS_AES_256_GCM_SHA384"
  // The leaf certificate the server presented; empty if none or it could not be decoded.
  const std::optional<CertificateInfo>& peerCertificate() const { return peer_certificate_; }
  // Set when TlsClientOptions::check_chain asked for it and the server sent a certificate.
  const std::optional<ChainCheck>& chain() const { return chain_; }
  // The server's ephemeral key exchange: "DH", "ECDH" (X25519, P-256, ...) or "" when the
  // suite has none, and its size in bits (a DH group's prime: Logjam is about <= 1024).
  const std::string& keyExchange() const { return key_exchange_; }
  int keyExchangeBits() const { return key_exchange_bits_; }

 private:
  TlsClientSession(int fd, SslCtxPtr context, SslPtr ssl);

  // Runs `operation` (an SSL_* call returning > 0 on success) until it succeeds, moving
  // ciphertext between the memory BIOs and the socket. Returns the operation's result.
  template <typename Operation>
  Result<int> drive(Operation operation, std::string_view what, Deadline deadline);
  Status flushOutput(Deadline deadline);
  Status receiveInput(Deadline deadline, bool* peer_closed);

  int fd_;
  SslCtxPtr context_;
  SslPtr ssl_;
  BIO* network_in_ = nullptr;   // owned by ssl_: ciphertext from the peer
  BIO* network_out_ = nullptr;  // owned by ssl_: ciphertext for the peer
  std::string version_;
  std::string cipher_;
  std::optional<CertificateInfo> peer_certificate_;
  std::optional<ChainCheck> chain_;
  std::string key_exchange_;
  int key_exchange_bits_ = 0;
};

}  // namespace postwarden::agent::tls
