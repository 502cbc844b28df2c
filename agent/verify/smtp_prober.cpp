// Over 400 lines on purpose: one SMTP conversation over one socket (deadline-bound line I/O,
// STARTTLS, AUTH, the relay and DH checks); the transcript parser and the TLS client already
// live apart.
#include "agent/verify/smtp_prober.h"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <span>

#include "agent/tls/tls_client.h"

namespace postwarden::agent::verify {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kRedacted = "<redacted>";

std::string base64(std::string_view data) {
  std::string encoded(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                     reinterpret_cast<const unsigned char*>(data.data()),
                                     static_cast<int>(data.size()));
  encoded.resize(static_cast<size_t>(std::max(length, 0)));
  return encoded;
}

// RFC 4616: message = [authzid] NUL authcid NUL passwd.
std::string plainAuthPayload(std::string_view user, std::string_view password) {
  std::string message;
  message += '\0';
  message += user;
  message += '\0';
  message += password;
  return base64(message);
}

bool hasAny(std::string_view text, std::string_view characters) {
  return text.find_first_of(characters) != std::string_view::npos;
}

// Everything that ends up inside an SMTP command line must not be able to inject another
// command (CR/LF) or break the AUTH PLAIN framing (NUL).
Status validateTarget(const ProbeTarget& target) {
  using namespace std::string_view_literals;
  const std::string_view kLineBreaks = "\r\n\0"sv;
  if (target.host.empty()) return InvalidArgumentError("host is empty");
  if (target.port == 0) return InvalidArgumentError("port is 0");
  if (target.timeout.count() <= 0) return InvalidArgumentError("timeout must be positive");
  if (target.ehlo_name.empty() || hasAny(target.ehlo_name, " \t\r\n\0"sv)) {
    return InvalidArgumentError("EHLO name must be one word");
  }
  if (target.login && (target.login->user.empty() || hasAny(target.login->user, kLineBreaks) ||
                       hasAny(target.login->password, kLineBreaks))) {
    return InvalidArgumentError("login user is empty or credentials contain CR, LF or NUL");
  }
  if (target.message) {
    const TestMessage& message = *target.message;
    if (message.rcpt_to.empty()) return InvalidArgumentError("test message has no recipient");
    std::vector<std::string> addresses = message.rcpt_to;
    addresses.push_back(message.mail_from);
    for (const std::string& address : addresses) {
      if (hasAny(address, " \t<>\r\n\0"sv)) {
        return InvalidArgumentError("test message address '" + printable(address) +
                                    "' contains spaces, angle brackets or line breaks");
      }
    }
    if (hasAny(message.subject, kLineBreaks)) {
      return InvalidArgumentError("test message subject contains a line break");
    }
  }
  if (target.relay_test) {
    for (const std::string* word : {&target.relay_test->client_address,
                                    &target.relay_test->mail_from, &target.relay_test->rcpt_to}) {
      if (word->empty() || hasAny(*word, " \t<>\r\n\0"sv)) {
        return InvalidArgumentError("relay test value '" + printable(*word) +
                                    "' is empty or contains spaces, angle brackets or line breaks");
      }
    }
  }
  return OkStatus();
}

// The message as sent after DATA: headers, CRLF line endings, dot-stuffed (RFC 5321
// 4.5.2), terminated by "." on a line of its own.
std::string messageContent(const TestMessage& message) {
  std::string to;
  for (const std::string& recipient : message.rcpt_to) {
    if (!to.empty()) to += ", ";
    to += "<" + recipient + ">";
  }
  std::string content = "From: <" + message.mail_from + ">\r\nTo: " + to +
                        "\r\nSubject: " + message.subject + "\r\nX-Postwarden-Probe: yes\r\n\r\n";
  std::string_view body = message.body;
  while (!body.empty()) {
    const size_t end = body.find('\n');
    std::string_view line = body.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.starts_with(".")) content += '.';
    content += line;
    content += "\r\n";
    body.remove_prefix(end == std::string_view::npos ? body.size() : end + 1);
  }
  content += ".\r\n";
  return content;
}

// One TCP connection with an optional TLS layer and a line buffer; every wait is bounded by
// the probe's single deadline.
class Connection {
 public:
  Connection(Clock::time_point deadline, std::chrono::milliseconds timeout)
      : deadline_(deadline), timeout_(timeout) {}
  ~Connection() {
    if (tls_) tls_->closeNotify();
    if (fd_ >= 0) close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Errors: Unavailable (refused, unreachable), DeadlineExceeded, InvalidArgument (the host
  // does not resolve).
  Status connect(const std::string& host, uint16_t port) {
    const std::string where = host + ":" + std::to_string(port);
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* addresses = nullptr;
    const std::string service = std::to_string(port);
    if (const int error = getaddrinfo(host.c_str(), service.c_str(), &hints, &addresses)) {
      return InvalidArgumentError("resolving '" + host + "': " + gai_strerror(error));
    }
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(addresses, &freeaddrinfo);
    Status last = UnavailableError("connecting to " + where + ": no address");
    for (addrinfo* address = addresses; address != nullptr; address = address->ai_next) {
      last = connectOne(*address, where);
      if (last.ok() || last.code() == StatusCode::kDeadlineExceeded) return last;
    }
    return last;
  }

  // Reads one line, without its line ending. Errors: DeadlineExceeded, Unavailable (closed
  // or reset), InvalidArgument (a line longer than kMaxReplyLineLength).
  Result<std::string> readLine(std::string_view what) {
    size_t scanned = 0;
    for (;;) {
      const size_t end = buffer_.find('\n', scanned);
      if (end != std::string::npos) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return line;
      }
      scanned = buffer_.size();
      if (buffer_.size() > kMaxReplyLineLength + 1) {  // +1: a CR may still precede the LF
        return InvalidArgumentError("the server sent a line longer than " +
                                    std::to_string(kMaxReplyLineLength) +
                                    " bytes while we were waiting for " + std::string(what));
      }
      char chunk[4096];
      PW_ASSIGN_OR_RETURN(size_t received, readSome(chunk, what));
      if (received == 0) {
        return UnavailableError("the server closed the connection while we were waiting for " +
                                std::string(what));
      }
      buffer_.append(chunk, received);
    }
  }

  Status write(std::string_view data, std::string_view what) {
    if (tls_) return translate(tls_->writeAll(data, deadline_), what);
    while (!data.empty()) {
      const ssize_t sent = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (sent > 0) {
        data.remove_prefix(static_cast<size_t>(sent));
        continue;
      }
      if (sent < 0 && errno == EINTR) continue;
      if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        PW_RETURN_IF_ERROR(waitFor(POLLOUT, what));
        continue;
      }
      return UnavailableError("sending " + std::string(what) + ": " + std::strerror(errno));
    }
    return OkStatus();
  }

  // Bytes received but not yet consumed as lines.
  size_t bufferedBytes() const { return buffer_.size(); }
  void discardBuffer() { buffer_.clear(); }

  // Errors: as TlsClientSession::handshake, with DeadlineExceeded reworded.
  Status startTls(const tls::TlsClientOptions& options) {
    auto session = tls::TlsClientSession::handshake(fd_, options, deadline_);
    if (!session.ok()) return translate(session.status(), "the TLS handshake");
    tls_ = std::move(session).value();
    return OkStatus();
  }

  const tls::TlsClientSession* tls() const { return tls_.get(); }

 private:
  Status timedOut(std::string_view what) const {
    return DeadlineExceededError("timed out after " + std::to_string(timeout_.count()) +
                                 " ms waiting for " + std::string(what));
  }

  Status translate(const Status& status, std::string_view what) const {
    if (status.code() == StatusCode::kDeadlineExceeded) return timedOut(what);
    return status;
  }

  Status waitFor(short events, std::string_view what) {
    for (;;) {
      const auto remaining = std::chrono::ceil<std::chrono::milliseconds>(deadline_ - Clock::now());
      if (remaining.count() <= 0) return timedOut(what);
      pollfd descriptor{fd_, events, 0};
      const int ready =
          poll(&descriptor, 1, static_cast<int>(std::min<int64_t>(remaining.count(), INT_MAX)));
      if (ready > 0) return OkStatus();  // errors and hang-ups surface in recv/send/SO_ERROR
      if (ready < 0 && errno != EINTR) return ErrnoToStatus(errno, "poll");
    }
  }

  Result<size_t> readSome(std::span<char> chunk, std::string_view what) {
    if (tls_) {
      auto received = tls_->read(chunk, deadline_);
      if (!received.ok()) return translate(received.status(), what);
      return *received;
    }
    for (;;) {
      const ssize_t received = recv(fd_, chunk.data(), chunk.size(), 0);
      if (received >= 0) return static_cast<size_t>(received);
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        PW_RETURN_IF_ERROR(waitFor(POLLIN, what));
        continue;
      }
      return UnavailableError("receiving " + std::string(what) + ": " + std::strerror(errno));
    }
  }

  Status connectOne(const addrinfo& address, const std::string& where) {
    if (fd_ >= 0) close(fd_);
    fd_ = socket(address.ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return ErrnoToStatus(errno, "creating a socket");
    if (::connect(fd_, address.ai_addr, address.ai_addrlen) == 0) return OkStatus();
    if (errno != EINPROGRESS && errno != EINTR) {
      return UnavailableError("connecting to " + where + ": " + std::strerror(errno));
    }
    PW_RETURN_IF_ERROR(waitFor(POLLOUT, "the TCP connection to " + where));
    int error = 0;
    socklen_t length = sizeof(error);
    if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    if (error != 0) {
      return UnavailableError("connecting to " + where + ": " + std::strerror(error));
    }
    return OkStatus();
  }

  Clock::time_point deadline_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::string buffer_;
  std::unique_ptr<tls::TlsClientSession> tls_;
};

// One probe's conversation: fills `result` as it goes and stops at the first failure.
class Conversation {
 public:
  // With `tls_only`, the conversation is banner, EHLO, STARTTLS with those options, QUIT: one
  // of ProbeTarget::tls_attempts.
  Conversation(const ProbeTarget& target, ProbeResult& result, Clock::time_point deadline,
               std::optional<tls::TlsClientOptions> tls_only = std::nullopt)
      : target_(target),
        result_(result),
        connection_(deadline, target.timeout),
        tls_only_(std::move(tls_only)) {}

  void run() {
    if (Status valid = validateTarget(target_); !valid.ok()) {
      result_.failure = "invalid probe target: " + valid.message();
      return;
    }
    if (Status connected = connection_.connect(target_.host, target_.port); !connected.ok()) {
      result_.failure = connected.message();
      return;
    }
    result_.connected = true;

    auto banner = readReply("the banner");
    if (!banner.ok()) return fail(banner.status());
    result_.banner_code = banner->code;
    result_.banner = banner->text();
    // RFC 5321 3.1: a 554 greeting means "no service"; the client should QUIT.
    if (banner->code != 220) {
      result_.failure =
          "the server greeted with '" + printable(banner->summary()) + "' instead of 220";
      return quit();
    }

    auto before_tls = ehlo("the EHLO reply");
    if (!before_tls.ok()) {
      fail(before_tls.status());
      // A refused EHLO leaves a working session that deserves a proper QUIT.
      if (before_tls.status().code() == StatusCode::kFailedPrecondition) quit();
      return;
    }
    result_.before_tls = std::move(before_tls).value();
    result_.starttls_offered = result_.before_tls.starttls;

    if (tls_only_) {
      if (result_.starttls_offered) {
        if (Status started = startTls(); !started.ok()) return fail(started);
      }
      return quit();
    }

    if (target_.try_plain_auth_before_tls) {
      // A dummy credential: the point is whether the server even listens to AUTH in
      // cleartext, which EHLO alone does not prove.
      auto reply = authPlain(plainAuthPayload("postwarden-probe", "not-a-password"));
      if (!reply.ok()) return fail(reply.status());
      result_.plain_auth_before_tls_refused = plainAuthRefused(reply->code);
      if (reply->code == 421) return failWithReply("AUTH", *reply);
    }

    if (target_.try_vrfy) {
      auto reply = command("VRFY root", "the VRFY reply");
      if (!reply.ok()) return fail(reply.status());
      result_.vrfy_code = reply->code;
      result_.vrfy_reply = printable(reply->summary());
      if (reply->code == 421) return failWithReply("VRFY", *reply);
    }

    if (target_.relay_test) {
      if (Status tested = relayTest(*target_.relay_test); !tested.ok()) return fail(tested);
    }

    if (result_.starttls_offered) {
      if (Status started = startTls(); !started.ok()) return fail(started);
    }

    if (target_.login) {
      if (!result_.tls_established) {
        note("not sending the login credentials: the connection is not encrypted");
      } else {
        auto reply = authPlain(plainAuthPayload(target_.login->user, target_.login->password));
        if (!reply.ok()) return fail(reply.status());
        result_.login_succeeded = reply->code == 235;
      }
    }

    if (target_.message) {
      if (Status sent = sendMessage(*target_.message); !sent.ok()) return fail(sent);
    }
    quit();
  }

 private:
  void note(std::string_view text) { result_.transcript.push_back("-- " + std::string(text)); }

  void fail(const Status& status) { result_.failure = status.message(); }

  void failWithReply(std::string_view command, const SmtpReply& reply) {
    result_.failure = "the server answered " + std::string(command) + " with '" +
                      printable(reply.summary()) + "'";
  }

  // Reads one complete reply, recording every line as it arrives (also malformed ones).
  Result<SmtpReply> readReply(std::string_view what) {
    ReplyAssembler assembler;
    for (;;) {
      PW_ASSIGN_OR_RETURN(std::string line, connection_.readLine(what));
      result_.transcript.push_back("S: " + printable(line));
      auto added = assembler.addLine(line);
      if (!added.ok()) {
        return InvalidArgumentError(
            "the server sent a malformed reply while we were waiting "
            "for " +
            std::string(what) + ": " + added.status().message());
      }
      if (added->has_value()) return std::move(**added);
    }
  }

  // Sends `line` + CRLF, records it (as `recorded` when given, to keep secrets out of the
  // transcript) and reads the reply.
  Result<SmtpReply> command(const std::string& line, std::string_view what,
                            std::string_view recorded = {}) {
    result_.transcript.push_back("C: " + std::string(recorded.empty() ? line : recorded));
    PW_RETURN_IF_ERROR(connection_.write(line + "\r\n", what));
    return readReply(what);
  }

  Result<Capabilities> ehlo(std::string_view what) {
    PW_ASSIGN_OR_RETURN(SmtpReply reply, command("EHLO " + target_.ehlo_name, what));
    if (reply.code != 250) {
      return FailedPreconditionError("the server answered EHLO with '" +
                                     printable(reply.summary()) + "'");
    }
    return parseCapabilities(reply);
  }

  Result<SmtpReply> authPlain(const std::string& payload) {
    PW_ASSIGN_OR_RETURN(SmtpReply reply, command("AUTH PLAIN " + payload, "the AUTH reply",
                                                 "AUTH PLAIN " + std::string(kRedacted)));
    if (reply.code == 334) {
      // The server wants the credential on its own line; "*" cancels (RFC 4954 4).
      PW_RETURN_IF_ERROR(command("*", "the AUTH cancellation reply").status());
    }
    return reply;
  }

  Status startTls() {
    PW_ASSIGN_OR_RETURN(SmtpReply reply, command("STARTTLS", "the STARTTLS reply"));
    if (reply.code != 220) {
      // E.g. Postfix's "454 4.7.0 TLS not available due to local problem" when the key or
      // certificate cannot be loaded. The session goes on in cleartext.
      result_.tls_error = printable(reply.summary());
      note("STARTTLS refused; continuing without TLS");
      return OkStatus();
    }
    if (connection_.bufferedBytes() > 0) {
      // Cleartext sent after "220 Ready to start TLS" must not be read as if it came over
      // TLS (the STARTTLS command-injection flaw, CVE-2011-0411 on the server side).
      note("discarded " + std::to_string(connection_.bufferedBytes()) +
           " bytes the server sent in cleartext after its STARTTLS reply");
      connection_.discardBuffer();
    }
    tls::TlsClientOptions options = tls_only_.value_or(tls::TlsClientOptions{});
    options.server_name = target_.expected_certificate_name.value_or(target_.host);
    options.check_chain = target_.check_certificate_chain && !tls_only_;
    if (Status handshake = connection_.startTls(options); !handshake.ok()) {
      result_.tls_error = handshake.message();
      note("TLS handshake failed: " + handshake.message());
      if (handshake.code() == StatusCode::kDeadlineExceeded ||
          handshake.message().starts_with("TLS handshake failed")) {
        return handshake;
      }
      return Status(handshake.code(), "TLS handshake failed: " + handshake.message());
    }
    const tls::TlsClientSession& session = *connection_.tls();
    result_.tls_established = true;
    result_.tls_version = session.version();
    result_.tls_cipher = session.cipher();
    result_.peer_certificate = session.peerCertificate();
    result_.certificate_chain = session.chain();
    key_exchange_ = session.keyExchange();
    key_exchange_bits_ = session.keyExchangeBits();
    if (target_.expected_certificate_name) {
      result_.certificate_name_matches =
          result_.peer_certificate.has_value() &&
          tls::matchesName(*result_.peer_certificate, *target_.expected_certificate_name);
    }
    note("TLS established: " + result_.tls_version + " " + result_.tls_cipher);
    PW_ASSIGN_OR_RETURN(result_.after_tls, ehlo("the EHLO reply after STARTTLS"));
    return OkStatus();
  }

  Status sendMessage(const TestMessage& message) {
    result_.message_accepted = false;
    PW_ASSIGN_OR_RETURN(SmtpReply mail,
                        command("MAIL FROM:<" + message.mail_from + ">", "the MAIL FROM reply"));
    if (mail.code != 250) return reset();
    bool all_recipients_accepted = true;
    for (const std::string& recipient : message.rcpt_to) {
      PW_ASSIGN_OR_RETURN(SmtpReply rcpt,
                          command("RCPT TO:<" + recipient + ">", "the RCPT TO reply"));
      if (rcpt.code != 250 && rcpt.code != 251) all_recipients_accepted = false;
    }
    if (!all_recipients_accepted) return reset();
    PW_ASSIGN_OR_RETURN(SmtpReply data, command("DATA", "the DATA reply"));
    if (data.code != 354) return reset();
    const std::string content = messageContent(message);
    note("message content: " + std::to_string(content.size()) + " bytes");
    result_.transcript.push_back("C: .");
    PW_RETURN_IF_ERROR(connection_.write(content, "the end-of-data reply"));
    PW_ASSIGN_OR_RETURN(SmtpReply queued, readReply("the end-of-data reply"));
    result_.message_accepted = queued.code == 250;
    return OkStatus();
  }

  // XCLIENT (when offered) to look like an outside client, then MAIL FROM / RCPT TO an
  // outside domain and RSET: never DATA. After XCLIENT the server greets again and wants a
  // new EHLO (XCLIENT_README), which refreshes result_.before_tls.
  Status relayTest(const RelayTest& test) {
    RelayResult relay;
    relay.from_loopback =
        target_.host.starts_with("127.") || target_.host == "::1" || target_.host == "localhost";
    relay.xclient_offered =
        std::find(result_.before_tls.keywords.begin(), result_.before_tls.keywords.end(),
                  "XCLIENT") != result_.before_tls.keywords.end();
    if (relay.xclient_offered) {
      PW_ASSIGN_OR_RETURN(SmtpReply reply,
                          command("XCLIENT ADDR=" + test.client_address + " NAME=[UNAVAILABLE]",
                                  "the XCLIENT reply"));
      relay.xclient_reply = printable(reply.summary());
      relay.xclient_accepted = reply.code == 220;
      if (relay.xclient_accepted) {
        PW_ASSIGN_OR_RETURN(result_.before_tls, ehlo("the EHLO reply after XCLIENT"));
      }
    }
    PW_ASSIGN_OR_RETURN(SmtpReply mail,
                        command("MAIL FROM:<" + test.mail_from + ">", "the MAIL FROM reply"));
    if (mail.code == 250) {
      PW_ASSIGN_OR_RETURN(SmtpReply rcpt,
                          command("RCPT TO:<" + test.rcpt_to + ">", "the RCPT TO reply"));
      relay.rcpt_code = rcpt.code;
      relay.rcpt_reply = printable(rcpt.summary());
    } else {
      relay.rcpt_reply = "MAIL FROM refused: " + printable(mail.summary());
    }
    result_.relay = relay;
    return reset();
  }

  // After a rejected transaction, RSET keeps the session usable for QUIT.
  Status reset() { return command("RSET", "the RSET reply").status(); }

  void quit() {
    auto reply = command("QUIT", "the QUIT reply");
    // The conversation is over either way; a server that drops the line instead of saying
    // 221 is worth a note, not a failed probe.
    if (!reply.ok()) note("no reply to QUIT: " + reply.status().message());
  }

  const ProbeTarget& target_;
  ProbeResult& result_;
  Connection connection_;
  std::optional<tls::TlsClientOptions> tls_only_;

 public:
  std::string key_exchange_;  // of the handshake, for TlsAttempt
  int key_exchange_bits_ = 0;
};

std::optional<tls::TlsClientOptions> attemptOptions(std::string_view offered) {
  tls::TlsClientOptions options;
  if (offered == "TLSv1") {
    options.only_version = TLS1_VERSION;
  } else if (offered == "TLSv1.1") {
    options.only_version = TLS1_1_VERSION;
  } else if (offered == "TLSv1.2") {
    options.only_version = TLS1_2_VERSION;
  } else if (offered == "TLSv1.3") {
    options.only_version = TLS1_3_VERSION;
  } else if (offered == "aNULL") {
    options.cipher_list = "aNULL:@SECLEVEL=0";
  } else if (offered == "DHE") {
    options.cipher_list = "kDHE:!aNULL:@SECLEVEL=0";
  } else {
    return std::nullopt;
  }
  return options;
}

// One extra connection whose handshake offers only `offered`.
TlsAttempt attemptTls(const ProbeTarget& target, const std::string& offered) {
  TlsAttempt attempt{.offered = offered};
  std::optional<tls::TlsClientOptions> options = attemptOptions(offered);
  if (!options) {
    attempt.error = "unknown TLS attempt '" + offered + "'";
    return attempt;
  }
  ProbeTarget plain = target;
  plain.login.reset();
  plain.message.reset();
  ProbeResult result;
  {
    Conversation conversation(plain, result, Clock::now() + target.timeout, std::move(options));
    conversation.run();
    attempt.key_exchange = conversation.key_exchange_;
    attempt.key_exchange_bits = conversation.key_exchange_bits_;
  }
  attempt.established = result.tls_established;
  attempt.version = result.tls_version;
  attempt.cipher = result.tls_cipher;
  attempt.reached_handshake =
      result.tls_established || result.tls_error.starts_with("TLS handshake failed") ||
      std::any_of(result.transcript.begin(), result.transcript.end(), [](const std::string& line) {
        return line.starts_with("-- TLS handshake failed");
      });
  if (!result.tls_established) {
    attempt.error = !result.tls_error.empty()  ? result.tls_error
                    : !result.failure.empty()  ? result.failure
                    : !result.starttls_offered ? std::string("STARTTLS not offered")
                                               : std::string("no handshake");
  }
  return attempt;
}

}  // namespace

SmtpProber::~SmtpProber() = default;

const TlsAttempt* findTlsAttempt(const ProbeResult& result, std::string_view offered) {
  for (const TlsAttempt& a : result.tls_attempts) {
    if (a.offered == offered) return &a;
  }
  return nullptr;
}

bool plainAuthRefused(int reply_code) {
  return reply_code >= 500 && reply_code <= 599 && reply_code != 535;
}

ProbeResult SocketSmtpProber::probe(const ProbeTarget& target) {
  ProbeResult result;
  const Clock::time_point start = Clock::now();
  {
    Conversation conversation(target, result, start + target.timeout);
    conversation.run();
  }  // closes the connection before the clock stops
  if (result.starttls_offered) {
    for (const std::string& offered : target.tls_attempts) {
      result.tls_attempts.push_back(attemptTls(target, offered));
    }
  }
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  return result;
}

}  // namespace postwarden::agent::verify
