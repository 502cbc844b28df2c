// Pure parsing of the server side of SMTP (RFC 5321 4.2 replies) and of EHLO capabilities
// (RFC 5321 4.1.1.1, RFC 4954 AUTH, RFC 3207 STARTTLS), plus recorded "S: / C: " transcripts
// as SmtpProber writes them. No I/O; every function is deterministic and thread-safe.
// Malformed input is an error value, never a crash: InvalidArgument for lines that break the
// grammar (garbage, over-long, mixed codes), DataLoss for input that stops mid-reply.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace postwarden::agent::verify {

// `text` with control bytes escaped as \xNN, so that a hostile server cannot inject terminal
// escapes or fake transcript lines into logs and reports.
std::string printable(std::string_view text);

// Longest reply line accepted, without CRLF. RFC 5321 4.5.3.1.5 allows 512 octets; Postfix
// stays well below. Generous, but bounded so a hostile server cannot exhaust memory.
inline constexpr size_t kMaxReplyLineLength = 4096;
// Most lines accepted in one multi-line reply (an EHLO reply has about a dozen).
inline constexpr size_t kMaxReplyLines = 128;

// One complete reply: "250-mail.example.com" ... "250 CHUNKING" gives code 250 and the texts
// after the separator, in order.
struct SmtpReply {
  int code = 0;
  std::vector<std::string> lines;

  // The lines joined with a single space, e.g. for "454 4.7.0 TLS not available ...".
  std::string text() const;
  // "<code> <first line>", e.g. "454 4.7.0 TLS not available due to local problem".
  std::string summary() const;
  friend bool operator==(const SmtpReply&, const SmtpReply&) = default;
};

// One reply line taken apart.
struct ReplyLine {
  int code = 0;
  bool last = true;  // "250 " or a bare "250" ends the reply; "250-" continues it
  std::string text;
};

// Parses one line without its line ending (a trailing CR is tolerated).
// Errors: InvalidArgument when the line is longer than kMaxReplyLineLength, does not start
// with a code in 200..559 (first digit 2-5, second 0-5), has a separator other than ' ' or
// '-', or contains control characters other than TAB (binary garbage, NUL).
Result<ReplyLine> parseReplyLine(std::string_view line);

// Assembles replies line by line, for callers reading a socket. Not thread-safe.
class ReplyAssembler {
 public:
  // Adds one line. Returns the complete reply once `line` is its last line, and an empty
  // optional while more lines are expected.
  // Errors: InvalidArgument for a malformed line (see parseReplyLine), a code that changes
  // inside a multi-line reply, or more than kMaxReplyLines lines. After an error the
  // assembler is reset.
  Result<std::optional<SmtpReply>> addLine(std::string_view line);

  // True while a multi-line reply has started but not ended.
  bool inProgress() const { return partial_.has_value(); }

 private:
  std::optional<SmtpReply> partial_;
};

// Parses a stream of server bytes (lines ending in CRLF or LF) into replies.
// Errors: InvalidArgument as for ReplyAssembler; DataLoss when the data ends inside a
// multi-line reply or in a line without its line ending.
Result<std::vector<SmtpReply>> parseReplies(std::string_view data);

// What an EHLO reply advertises.
struct Capabilities {
  bool starttls = false;
  // SASL mechanisms from "AUTH ..." and the pre-RFC "AUTH=..." form, upper-case, each once,
  // in the order first seen.
  std::vector<std::string> auth_mechanisms;
  // Extension keywords, upper-case, each once, in order ("PIPELINING", "SIZE", "AUTH", ...).
  // The first reply line (the server's name and greeting) is not a keyword.
  std::vector<std::string> keywords;
  friend bool operator==(const Capabilities&, const Capabilities&) = default;
};

// Extracts capabilities from an EHLO reply. Keywords are case-insensitive (RFC 5321 2.4);
// lines whose keyword is not ehlo-keyword syntax are ignored, as are mechanism names that
// are not SASL names (RFC 4422 3.1: 1-20 of A-Z 0-9 - _).
// Errors: InvalidArgument when the reply code is not 250 or a line is longer than
// kMaxReplyLineLength.
Result<Capabilities> parseCapabilities(const SmtpReply& ehlo_reply);

// True when `capabilities` offers `mechanism` (case-insensitive).
bool offersMechanism(const Capabilities& capabilities, std::string_view mechanism);

// One command and the reply to it, from a transcript. A reply no command asked for (the
// banner, an unsolicited "421 ... closing connection") has an empty command.
struct Exchange {
  std::string command;             // as written after "C: ", e.g. "EHLO postwarden.probe"
  std::optional<SmtpReply> reply;  // empty when the transcript ends before the reply
  friend bool operator==(const Exchange&, const Exchange&) = default;
};

// Parses a transcript of "S: <reply line>" and "C: <command>" lines (LF or CRLF). Blank
// lines, "# comments" and "-- notes" are skipped. Pipelined commands are paired with replies
// in order.
// Errors: InvalidArgument ("line N: ...") for other line shapes and malformed reply lines;
// DataLoss when it ends inside a multi-line reply.
Result<std::vector<Exchange>> parseTranscript(std::string_view transcript);

}  // namespace postwarden::agent::verify
