#include "controller/store/text.h"

#include <cstdint>

#include "common/json_quote.h"

namespace postwarden::controller::store {

std::string encodeLabels(const Labels& labels) {
  std::string out = "{";
  bool first = true;
  for (const auto& [key, value] : labels) {
    if (!first) out.push_back(',');
    first = false;
    out += jsonQuote(key);
    out.push_back(':');
    out += jsonQuote(value);
  }
  out.push_back('}');
  return out;
}

std::string encodeWindows(const std::vector<std::string>& windows) {
  std::string out;
  for (const std::string& window : windows) {
    if (!out.empty()) out.push_back('\n');
    out += window;
  }
  return out;
}

std::vector<std::string> decodeWindows(std::string_view text) {
  std::vector<std::string> windows;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    windows.emplace_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return windows;
}

bool isHex(const std::string& s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string toLower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

namespace {

// Length of the well-formed sequence starting at text[i], or 0 when it is not one
// (Unicode 15, table 3-7).
size_t sequenceLength(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;  // no overlongs
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;  // no overlongs
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

// Offset of the first byte that does not start a well-formed sequence, or npos.
size_t firstInvalid(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    size_t n = sequenceLength(text, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

std::string quoted(std::string_view text) { return "'" + toValidUtf8(text) + "'"; }

}  // namespace

bool isValidUtf8(std::string_view text) { return firstInvalid(text) == std::string_view::npos; }

Status checkUtf8(std::string_view field, std::string_view text) {
  size_t bad = firstInvalid(text);
  if (bad == std::string_view::npos) return OkStatus();
  return InvalidArgumentError(std::string(field) + " is not valid UTF-8 (byte " +
                              std::to_string(bad) + ")");
}

std::string toValidUtf8(std::string_view text) {
  if (isValidUtf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  for (size_t i = 0; i < text.size();) {
    size_t n = sequenceLength(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

Status checkText(const Labels& labels, std::string_view what) {
  for (const auto& [key, value] : labels) {
    PW_RETURN_IF_ERROR(checkUtf8(std::string(what) + " key", key));
    PW_RETURN_IF_ERROR(checkUtf8(std::string(what) + " " + quoted(key), value));
  }
  return OkStatus();
}

Status checkText(const TokenRecord& token) {
  PW_RETURN_IF_ERROR(checkUtf8("token id", token.id));
  PW_RETURN_IF_ERROR(checkUtf8("token hash", token.secret_sha256));
  PW_RETURN_IF_ERROR(checkText(token.labels, "token label"));
  return checkUtf8("token agent id", token.bound_agent_id);
}

Status checkText(const BaselineRecord& baseline) {
  PW_RETURN_IF_ERROR(checkUtf8("baseline name", baseline.name));
  PW_RETURN_IF_ERROR(checkUtf8("baseline version", baseline.version));
  PW_RETURN_IF_ERROR(checkUtf8("baseline label", baseline.label));
  return checkUtf8("baseline content", baseline.content);
}

Status checkText(const AssignmentRecord& assignment) {
  PW_RETURN_IF_ERROR(checkUtf8("assignment baseline name", assignment.baseline_name));
  PW_RETURN_IF_ERROR(checkUtf8("assignment baseline version", assignment.baseline_version));
  for (const std::string& window : assignment.repair_windows) {
    PW_RETURN_IF_ERROR(checkUtf8("assignment repair window", window));
    if (window.empty() || window.find('\n') != std::string::npos) {
      return InvalidArgumentError("assignment repair window is empty or spans lines");
    }
  }
  return checkText(assignment.selector, "assignment selector");
}

Status checkText(const HistoryRow& row) {
  PW_RETURN_IF_ERROR(checkUtf8("history agent id", row.agent_id));
  PW_RETURN_IF_ERROR(checkUtf8("history kind", row.kind));
  return checkUtf8("history summary", row.summary);
}

Status checkText(const DriftRow& row) {
  PW_RETURN_IF_ERROR(checkUtf8("drift file", row.file));
  PW_RETURN_IF_ERROR(checkUtf8("drift service", row.service));
  PW_RETURN_IF_ERROR(checkUtf8("drift parameter", row.parameter));
  const std::string of = " of " + quoted(row.parameter);
  PW_RETURN_IF_ERROR(checkUtf8("drift expected value" + of, row.expected));
  return checkUtf8("drift actual value" + of, row.actual);
}

Status checkText(const ReportWrite& write) {
  PW_RETURN_IF_ERROR(checkUtf8("report agent id", write.agent_id));
  PW_RETURN_IF_ERROR(checkUtf8("report kind", write.kind));
  if (write.state.has_value()) {
    PW_RETURN_IF_ERROR(checkUtf8("report baseline name", write.state->baseline_name));
    PW_RETURN_IF_ERROR(checkUtf8("report baseline version", write.state->baseline_version));
    for (const DriftRow& row : write.state->drift) PW_RETURN_IF_ERROR(checkText(row));
  }
  for (const DriftRow& row : write.drift) PW_RETURN_IF_ERROR(checkText(row));
  PW_RETURN_IF_ERROR(checkUtf8("report history kind", write.history.kind));
  return checkUtf8("report history summary", write.history.summary);
}

Status checkText(const EnrollmentRequest& request) {
  PW_RETURN_IF_ERROR(checkUtf8("enrollment token id", request.token_id));
  PW_RETURN_IF_ERROR(checkUtf8("enrollment agent id", request.agent_id));
  return checkUtf8("enrollment host name", request.hostname);
}

}  // namespace postwarden::controller::store
