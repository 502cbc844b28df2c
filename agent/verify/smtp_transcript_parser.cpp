#include "agent/verify/smtp_transcript_parser.h"

#include <algorithm>
#include <deque>

namespace postwarden::agent::verify {
namespace {

char asciiUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

std::string upper(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(), asciiUpper);
  return result;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// A short, printable excerpt of untrusted input for error messages.
std::string excerpt(std::string_view text) {
  constexpr size_t kMax = 60;
  std::string shown = printable(text.substr(0, kMax));
  if (text.size() > kMax) shown += "...";
  return shown;
}

std::string_view stripCr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")   (RFC 5321 4.1.1.1)
bool isEhloKeyword(std::string_view keyword) {
  if (keyword.empty() || !(isAlpha(keyword[0]) || isDigit(keyword[0]))) return false;
  return std::all_of(keyword.begin(), keyword.end(),
                     [](char c) { return isAlpha(c) || isDigit(c) || c == '-'; });
}

// sasl-mech = 1*20(UPPER-ALPHA / DIGIT / HYPHEN / UNDERSCORE)   (RFC 4422 3.1)
bool isSaslMechanism(std::string_view mechanism) {
  if (mechanism.empty() || mechanism.size() > 20) return false;
  return std::all_of(mechanism.begin(), mechanism.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || isDigit(c) || c == '-' || c == '_';
  });
}

void addOnce(std::vector<std::string>& list, std::string value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(std::move(value));
}

std::vector<std::string_view> splitWords(std::string_view text) {
  std::vector<std::string_view> words;
  size_t position = 0;
  while (position < text.size()) {
    while (position < text.size() && (text[position] == ' ' || text[position] == '\t')) {
      ++position;
    }
    const size_t start = position;
    while (position < text.size() && text[position] != ' ' && text[position] != '\t') {
      ++position;
    }
    if (position > start) words.push_back(text.substr(start, position - start));
  }
  return words;
}

}  // namespace

std::string printable(std::string_view text) {
  std::string shown;
  shown.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      shown += "\\x";
      shown += kHex[byte >> 4];
      shown += kHex[byte & 0xf];
    } else {
      shown += c;
    }
  }
  return shown;
}

std::string SmtpReply::text() const {
  std::string joined;
  for (const std::string& line : lines) {
    if (!joined.empty()) joined += ' ';
    joined += line;
  }
  return joined;
}

std::string SmtpReply::summary() const {
  std::string result = std::to_string(code);
  if (!lines.empty() && !lines.front().empty()) result += " " + lines.front();
  return result;
}

Result<ReplyLine> parseReplyLine(std::string_view line) {
  line = stripCr(line);
  if (line.size() > kMaxReplyLineLength) {
    return InvalidArgumentError("reply line is " + std::to_string(line.size()) +
                                " bytes, longer than the limit of " +
                                std::to_string(kMaxReplyLineLength));
  }
  // Reply codes are 2yz..5yz with y in 0..5 (RFC 5321 4.2.1); "1yz" is never used by SMTP.
  if (line.size() < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '5' ||
      !isDigit(line[2])) {
    return InvalidArgumentError("malformed reply line '" + excerpt(line) +
                                "': expected a three-digit reply code");
  }
  if (line.size() > 3 && line[3] != ' ' && line[3] != '-') {
    return InvalidArgumentError("malformed reply line '" + excerpt(line) +
                                "': expected ' ' or '-' after the reply code");
  }
  for (char c : line) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) {
      return InvalidArgumentError("malformed reply line '" + excerpt(line) +
                                  "': contains control characters");
    }
  }
  ReplyLine parsed;
  parsed.code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  parsed.last = line.size() == 3 || line[3] == ' ';
  if (line.size() > 4) parsed.text = std::string(line.substr(4));
  return parsed;
}

Result<std::optional<SmtpReply>> ReplyAssembler::addLine(std::string_view line) {
  auto parsed = parseReplyLine(line);
  if (!parsed.ok()) {
    partial_.reset();
    return parsed.status();
  }
  if (!partial_) {
    partial_ = SmtpReply{parsed->code, {}};
  } else if (partial_->code != parsed->code) {
    const int expected = partial_->code;
    partial_.reset();
    return InvalidArgumentError("reply code changed from " + std::to_string(expected) + " to " +
                                std::to_string(parsed->code) + " inside a multi-line reply");
  }
  if (partial_->lines.size() >= kMaxReplyLines) {
    partial_.reset();
    return InvalidArgumentError("multi-line reply has more than " + std::to_string(kMaxReplyLines) +
                                " lines");
  }
  partial_->lines.push_back(std::move(parsed->text));
  if (!parsed->last) return std::optional<SmtpReply>();
  std::optional<SmtpReply> complete = std::move(partial_);
  partial_.reset();
  return complete;
}

Result<std::vector<SmtpReply>> parseReplies(std::string_view data) {
  std::vector<SmtpReply> replies;
  ReplyAssembler assembler;
  size_t line_number = 0;
  while (!data.empty()) {
    ++line_number;
    const size_t end = data.find('\n');
    if (end == std::string_view::npos) {
      if (data.size() > kMaxReplyLineLength) {
        return InvalidArgumentError("line " + std::to_string(line_number) +
                                    ": reply line longer than the limit of " +
                                    std::to_string(kMaxReplyLineLength));
      }
      return DataLossError("line " + std::to_string(line_number) + ": data ends in '" +
                           excerpt(data) + "' without a line ending");
    }
    auto added = assembler.addLine(data.substr(0, end));
    if (!added.ok()) return added.status().withContext("line " + std::to_string(line_number));
    if (added->has_value()) replies.push_back(std::move(**added));
    data.remove_prefix(end + 1);
  }
  if (assembler.inProgress()) {
    return DataLossError("data ends inside a multi-line reply (last line " +
                         std::to_string(line_number) + " has no final ' ' separator)");
  }
  return replies;
}

Result<Capabilities> parseCapabilities(const SmtpReply& ehlo_reply) {
  if (ehlo_reply.code != 250) {
    return InvalidArgumentError("EHLO was answered with '" + excerpt(ehlo_reply.summary()) +
                                "', not 250");
  }
  Capabilities capabilities;
  for (size_t i = 1; i < ehlo_reply.lines.size(); ++i) {  // line 0 is the greeting
    const std::string_view line = trim(ehlo_reply.lines[i]);
    if (line.size() > kMaxReplyLineLength) {
      return InvalidArgumentError("EHLO line " + std::to_string(i + 1) + " is longer than " +
                                  std::to_string(kMaxReplyLineLength) + " bytes");
    }
    std::vector<std::string_view> words = splitWords(line);
    if (words.empty()) continue;
    std::string_view keyword = words.front();
    std::vector<std::string_view> parameters(words.begin() + 1, words.end());
    // "AUTH=PLAIN LOGIN" is what pre-RFC 2554 clients (old Outlook) understand; Postfix sends
    // it next to the standard line when broken_sasl_auth_clients = yes.
    if (const size_t equals = keyword.find('='); equals != std::string_view::npos) {
      parameters.insert(parameters.begin(), keyword.substr(equals + 1));
      keyword = keyword.substr(0, equals);
    }
    if (!isEhloKeyword(keyword)) continue;
    std::string name = upper(keyword);
    if (name == "STARTTLS") capabilities.starttls = true;
    if (name == "AUTH") {
      for (std::string_view parameter : parameters) {
        std::string mechanism = upper(parameter);
        if (isSaslMechanism(mechanism)) addOnce(capabilities.auth_mechanisms, std::move(mechanism));
      }
    }
    addOnce(capabilities.keywords, std::move(name));
  }
  return capabilities;
}

bool offersMechanism(const Capabilities& capabilities, std::string_view mechanism) {
  const std::string wanted = upper(mechanism);
  return std::find(capabilities.auth_mechanisms.begin(), capabilities.auth_mechanisms.end(),
                   wanted) != capabilities.auth_mechanisms.end();
}

Result<std::vector<Exchange>> parseTranscript(std::string_view transcript) {
  std::vector<Exchange> exchanges;
  std::deque<std::string> pending_commands;
  ReplyAssembler assembler;
  size_t line_number = 0;
  auto context = [&] { return "line " + std::to_string(line_number); };
  while (!transcript.empty()) {
    ++line_number;
    const size_t end = transcript.find('\n');
    std::string_view line = stripCr(transcript.substr(0, end));
    transcript.remove_prefix(end == std::string_view::npos ? transcript.size() : end + 1);

    if (trim(line).empty() || line.starts_with("#") || line.starts_with("--")) continue;
    if (line.starts_with("C: ") || line == "C:") {
      if (assembler.inProgress()) {
        return InvalidArgumentError(context() + ": command inside a multi-line reply");
      }
      pending_commands.emplace_back(line.size() > 3 ? line.substr(3) : std::string_view());
      continue;
    }
    if (!line.starts_with("S: ")) {
      return InvalidArgumentError(context() + ": expected 'S: ' or 'C: ', got '" + excerpt(line) +
                                  "'");
    }
    auto added = assembler.addLine(line.substr(3));
    if (!added.ok()) return added.status().withContext(context());
    if (!added->has_value()) continue;
    Exchange exchange;
    if (!pending_commands.empty()) {
      exchange.command = std::move(pending_commands.front());
      pending_commands.pop_front();
    }
    exchange.reply = std::move(**added);
    exchanges.push_back(std::move(exchange));
  }
  if (assembler.inProgress()) {
    return DataLossError("transcript ends inside a multi-line reply at line " +
                         std::to_string(line_number));
  }
  for (std::string& command : pending_commands) {
    exchanges.push_back(Exchange{std::move(command), std::nullopt});
  }
  return exchanges;
}

}  // namespace postwarden::agent::verify
