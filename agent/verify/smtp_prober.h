// SmtpProber: talks SMTP to a listener the way a sending MTA or a scanner would and records
// what it saw, so that a change can be proven on the wire. One probe = one TCP connection:
// banner, EHLO, optionally a raw AUTH PLAIN before TLS, STARTTLS + TLS handshake, EHLO again,
// optionally AUTH PLAIN with real credentials (only ever after TLS) and a test message, QUIT.
// Guarantees: a probe never takes much longer than ProbeTarget::timeout per connection, whatever
// the server does (tar-pitting, silence, garbage); credentials never appear in the transcript; a
// probe never sends credentials over a connection without TLS. Outcomes are data (ProbeResult),
// never exceptions; judging them is expectation.h's and scan.h's job.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/tls/certificate_check.h"
#include "agent/tls/peer_chain.h"
#include "agent/verify/smtp_transcript_parser.h"

namespace postwarden::agent::verify {

struct Credentials {
  std::string user;
  std::string password;
};

// A smoke-test message: MAIL FROM / RCPT TO / DATA. Addresses are bare ("a@example.com").
struct TestMessage {
  std::string mail_from;
  std::vector<std::string> rcpt_to;
  std::string subject = "postwarden probe";
  std::string body = "This message was sent by postwarden to verify mail delivery.";
};

// An open-relay test: MAIL FROM and RCPT TO an outside domain, never DATA (no mail is ever
// relayed), then RSET. From loopback the client is in $mynetworks and the test passes
// vacuously, so where the listener authorizes XCLIENT for the prober (its
// smtpd_authorized_xclient_hosts), the probe first presents `client_address` with XCLIENT and
// the test judges what an outside client gets.
struct RelayTest {
  std::string client_address = "192.0.2.1";  // TEST-NET-1 (RFC 5737): outside by definition
  std::string mail_from = "postwarden-probe@example.com";
  std::string rcpt_to = "postwarden-relay-probe@example.net";  // a domain no host serves
};

struct ProbeTarget {
  // A numeric address, or a name resolved with getaddrinfo(), which the timeout cannot
  // interrupt; loopback probes should use the numeric address.
  std::string host = "127.0.0.1";
  uint16_t port = 25;
  std::string ehlo_name = "postwarden.probe";
  std::chrono::milliseconds timeout{5000};  // for the whole probe, connect to QUIT
  // When set, the peer certificate is matched against it, and it is sent as SNI. Otherwise
  // SNI is `host` unless that is an IP literal.
  std::optional<std::string> expected_certificate_name;
  // When set: AUTH PLAIN after TLS. Never sent without TLS.
  std::optional<Credentials> login;
  std::optional<TestMessage> message;
  // Sends "AUTH PLAIN <dummy credential>" before STARTTLS, whether or not AUTH is advertised,
  // and records whether the server refused it (see plainAuthRefused). This catches servers
  // that hide AUTH in EHLO but still accept it in cleartext.
  bool try_plain_auth_before_tls = true;
  // Sends "VRFY root" before STARTTLS and records the reply (ProbeResult::vrfy_code). Postfix
  // answers 252 by default (a finding for OpenVAS), 502 with disable_vrfy_command = yes.
  bool try_vrfy = false;
  // Each is one more connection (banner, EHLO, STARTTLS, handshake, QUIT) whose handshake
  // offers only that: a protocol version ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"), offered
  // with OpenSSL's security level lowered to 0 so that the client does not refuse old versions
  // itself, or "aNULL" (only anonymous cipher suites, TLS 1.2 at most). Recorded in
  // ProbeResult::tls_attempts, in this order. Run only when the main connection saw STARTTLS.
  std::vector<std::string> tls_attempts;
  // Judges the certificate chain the server sends against the system trust store
  // (ProbeResult::certificate_chain; tls/peer_chain.h).
  bool check_certificate_chain = false;
  // When set, the open-relay test runs before STARTTLS (ProbeResult::relay).
  std::optional<RelayTest> relay_test;
};

// What the open-relay test saw.
struct RelayResult {
  bool from_loopback = false;     // the probe connected to a loopback address
  bool xclient_offered = false;   // EHLO advertised XCLIENT
  bool xclient_accepted = false;  // the server took the outside address (220 after XCLIENT)
  std::string xclient_reply;      // its reply, when tried
  int rcpt_code = 0;              // the reply to RCPT TO the outside domain; 0: not reached
  std::string rcpt_reply;
  // Relaying refused: 5xx (reject_unauth_destination, 554 5.7.1) or 454
  // (defer_unauth_destination) to the RCPT.
  bool refused() const { return rcpt_code >= 500 || rcpt_code == 454; }
};

// Names ProbeTarget::tls_attempts accepts. "DHE" offers only authenticated ephemeral
// Diffie-Hellman suites (TLS 1.2 at most, security level 0 so that the client accepts any
// group size): the group the server picks is what Logjam (Nessus 83875) is about.
inline constexpr std::string_view kTlsAttemptNames[] = {"TLSv1",   "TLSv1.1", "TLSv1.2",
                                                        "TLSv1.3", "aNULL",   "DHE"};

// One extra handshake (ProbeTarget::tls_attempts): what was offered and what happened.
struct TlsAttempt {
  std::string offered;             // "TLSv1.1" or "aNULL"
  bool established = false;        // the server completed the handshake
  std::string version;             // negotiated, when established
  std::string cipher;              // negotiated, when established
  std::string error;               // why not, when not established
  bool reached_handshake = false;  // STARTTLS was answered with 220 and the handshake began
  std::string key_exchange;        // "DH" or "ECDH", when established with an ephemeral key
  int key_exchange_bits = 0;       // its size: a DH group's prime length
};

struct ProbeResult {
  bool connected = false;
  int banner_code = 0;
  std::string banner;  // the greeting's text after the code, all lines joined by a space
  Capabilities before_tls;
  bool starttls_offered = false;
  bool tls_established = false;
  // Why TLS was not established: the server's STARTTLS reply ("454 4.7.0 TLS not available
  // due to local problem") or the handshake error. Empty when TLS was never attempted.
  std::string tls_error;
  std::string tls_version;  // "TLSv1.3"
  std::string tls_cipher;   // "TLS_AES_256_GCM_SHA384"
  std::optional<tls::CertificateInfo> peer_certificate;
  // Set when expected_certificate_name was given and TLS was established.
  std::optional<bool> certificate_name_matches;
  // Set when check_certificate_chain was asked and the server sent a certificate.
  std::optional<tls::ChainCheck> certificate_chain;
  Capabilities after_tls;
  // Set when try_plain_auth_before_tls and the server answered the attempt.
  std::optional<bool> plain_auth_before_tls_refused;
  // The reply code and text to "VRFY root", when try_vrfy and the server answered.
  std::optional<int> vrfy_code;
  std::string vrfy_reply;
  std::vector<TlsAttempt> tls_attempts;  // as ProbeTarget::tls_attempts asked
  std::optional<RelayResult> relay;      // when ProbeTarget::relay_test asked
  std::optional<bool> login_succeeded;   // set when a login was attempted
  std::optional<bool> message_accepted;  // set when a message was attempted
  // "S: 220 ..." and "C: EHLO ..." lines, plus "-- note" lines. The AUTH payload (base64
  // credentials) is written as "C: AUTH PLAIN <redacted>"; server bytes that are not
  // printable are escaped as \xNN.
  std::vector<std::string> transcript;
  // Empty when the conversation ran to its end (a refused STARTTLS is not a failure here);
  // otherwise why it stopped early, e.g. "timed out after 5000 ms waiting for the banner".
  std::string failure;
  std::chrono::milliseconds elapsed{0};
};

// The attempt of `result` that offered `offered`, or nullptr when none was made.
const TlsAttempt* findTlsAttempt(const ProbeResult& result, std::string_view offered);

class SmtpProber {
 public:
  virtual ~SmtpProber();
  // Runs one probe. Never throws; every problem is described in the result.
  virtual ProbeResult probe(const ProbeTarget& target) = 0;
};

// The real prober: POSIX sockets, poll() and OpenSSL (via tls::TlsClientSession). Every
// connect, read, write and the handshake share one deadline of target.timeout (each extra
// connection of ProbeTarget::tls_attempts has a deadline of its own, so a probe with n
// attempts takes at most about (n + 1) * timeout); server lines
// longer than kMaxReplyLineLength end the probe. Stateless, so one instance may serve
// concurrent probes from several threads.
class SocketSmtpProber final : public SmtpProber {
 public:
  ProbeResult probe(const ProbeTarget& target) override;
};

// How the raw pre-TLS "AUTH PLAIN" attempt is judged from the server's reply code. Refused:
// any 5xx except 535, e.g. 503 (AUTH not enabled), 504 (mechanism unknown), 530 (must issue
// STARTTLS first), 538 (encryption required). Not refused: 235 (accepted!), 334 (asks for the
// credential), 535 and 4xx (the credential was checked, or would have been, in cleartext).
bool plainAuthRefused(int reply_code);

}  // namespace postwarden::agent::verify
