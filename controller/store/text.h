// Text the controller stores must be valid UTF-8: protobuf `string` fields carry only valid
// UTF-8, so one stored byte sequence that is not would break every later call that sends it
// (a whole `baseline list`, for everyone). checkUtf8 guards every write path of the store;
// toValidUtf8 lets readers survive a bad row stored before the guard existed.
// Pure and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "controller/store/store.h"

namespace postwarden::controller::store {

// What both backends write the same way: labels and selectors as a JSON object of strings
// (common/json_quote.h escapes), so an export moves them unchanged between backends.
std::string encodeLabels(const Labels& labels);
// Repair windows as one text column: one window per line (a window's short form has no
// newline; an empty list is the empty string).
std::string encodeWindows(const std::vector<std::string>& windows);
std::vector<std::string> decodeWindows(std::string_view text);
// Version prefixes: hex digits only; compared in lower case.
bool isHex(const std::string& s);
std::string toLower(std::string s);

// True when `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
// above U+10FFFF). NUL bytes are valid UTF-8.
bool isValidUtf8(std::string_view text);

// OK, or InvalidArgument "FIELD is not valid UTF-8 (byte N)" with the 0-based offset of the
// first bad byte.
Status checkUtf8(std::string_view field, std::string_view text);

// `text` with every byte that does not start a well-formed sequence replaced by U+FFFD.
// Returns `text` unchanged when it is valid.
std::string toValidUtf8(std::string_view text);

// checkUtf8 over every text field of a record, naming the first bad one ("baseline label",
// "token label 'site'", "drift value of 'smtpd_tls_auth_only'", ...). InvalidArgument.
Status checkText(const Labels& labels, std::string_view what);
Status checkText(const TokenRecord& token);
Status checkText(const BaselineRecord& baseline);
Status checkText(const AssignmentRecord& assignment);
Status checkText(const HistoryRow& row);
Status checkText(const DriftRow& row);
Status checkText(const ReportWrite& write);
Status checkText(const EnrollmentRequest& request);

}  // namespace postwarden::controller::store
