// FakeSmtpServer: a scripted SMTP server on a kernel-chosen loopback port, served by one
// background thread, for testing SMTP clients such as verify::SocketSmtpProber. Beyond normal
// conversations it misbehaves on request: tar-pitting (silence, one byte per interval),
// closing at once, garbage, over-long lines. Plain TCP only (this library has no OpenSSL):
// a test that wants real TLS after STARTTLS plugs in `Script::starttls_upgrade`.
// Connections are served one at a time, in order. Accessors are thread-safe. The destructor
// stops the thread promptly even mid-tar-pit; no test needs to sleep.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"

namespace postwarden::fakes {

class FakeSmtpServer {
 public:
  enum class Mode {
    kScripted,           // a normal conversation driven by Script
    kSilent,             // accepts and never sends a byte (tar pit)
    kTrickleBanner,      // sends the banner one byte per trickle_interval (tar pit)
    kSilentAfterBanner,  // sends the banner, then reads commands and never answers
    kCloseImmediately,   // accepts and closes without a banner
    kGarbage,            // sends `garbage` instead of a banner, then stays silent
    kOverlongBanner,     // sends "220 " + 64 KiB without a line ending, then stays silent
  };

  // A byte stream the conversation runs over after STARTTLS (the plain socket before).
  class Stream {
   public:
    virtual ~Stream() = default;
    // Reads up to `size` bytes; returns 0 at end of stream, < 0 on error.
    virtual ssize_t read(char* buffer, size_t size) = 0;
    // Writes all of `data`; false on error.
    virtual bool write(std::string_view data) = 0;
  };

  struct Script {
    Mode mode = Mode::kScripted;
    std::string banner = "220 fake.example.com ESMTP Postfix (Debian/GNU)";
    // EHLO reply lines without the "250-" prefix; the first is the greeting.
    std::vector<std::string> ehlo_lines = {
        "fake.example.com",    "PIPELINING", "SIZE 10240000", "VRFY",     "ETRN",    "STARTTLS",
        "ENHANCEDSTATUSCODES", "8BITMIME",   "DSN",           "SMTPUTF8", "CHUNKING"};
    // EHLO lines once the stream was upgraded by starttls_upgrade.
    std::vector<std::string> ehlo_lines_after_tls = {"fake.example.com",
                                                     "PIPELINING",
                                                     "SIZE 10240000",
                                                     "AUTH PLAIN LOGIN",
                                                     "ENHANCEDSTATUSCODES",
                                                     "8BITMIME",
                                                     "DSN",
                                                     "SMTPUTF8",
                                                     "CHUNKING"};
    std::string starttls_reply = "454 4.7.0 TLS not available due to local problem";
    // Called with the connection's fd after a 220 STARTTLS reply; the conversation continues
    // over the returned stream, or the connection closes if it returns null. Without it, a
    // 220 reply leaves the fake speaking plain SMTP (it answers the ClientHello bytes as if
    // they were commands). A hook that just reads until EOF makes a handshake tar pit.
    std::function<std::unique_ptr<Stream>(int fd)> starttls_upgrade;
    std::string auth_reply = "503 5.5.1 Error: authentication not enabled";
    std::string auth_reply_after_tls = "235 2.7.0 Authentication successful";
    // Full replies by upper-case verb ("MAIL", "RCPT", "DATA", "QUIT", ...), overriding the
    // defaults; multi-line replies are joined with "\r\n".
    std::map<std::string, std::string> replies;
    std::string garbage = std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) +
                          "HTTP/1.1 400 Bad Request\r\n";
    std::chrono::milliseconds trickle_interval{1000};
  };

  // Listens on 127.0.0.1 with a kernel-chosen port and starts serving.
  // Errors: whatever socket/bind/listen report (as ErrnoToStatus).
  static Result<std::unique_ptr<FakeSmtpServer>> start(Script script);

  ~FakeSmtpServer();  // stops serving and joins the thread
  FakeSmtpServer(const FakeSmtpServer&) = delete;
  FakeSmtpServer& operator=(const FakeSmtpServer&) = delete;

  uint16_t port() const { return port_; }
  // Every command line received, in order, across connections (without CRLF).
  std::vector<std::string> commands() const;
  // Message contents received after DATA (dot-stuffing undone), in order.
  std::vector<std::string> messages() const;
  int connectionsAccepted() const;

 private:
  explicit FakeSmtpServer(Script script);
  void serve();
  void serveConnection(int fd);
  void converse(int fd);
  // Waits up to `duration`; false when the server is stopping.
  bool pause(std::chrono::milliseconds duration);
  void drainUntilClosed(int fd);
  void record(std::vector<std::string>& into, std::string value);

  const Script script_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;

  mutable std::mutex mutex_;
  std::condition_variable stopping_changed_;
  bool stopping_ = false;
  int client_fd_ = -1;  // the connection being served, so stop() can shut it down
  int connections_ = 0;
  std::vector<std::string> commands_;
  std::vector<std::string> messages_;
};

}  // namespace postwarden::fakes
