// Parsers for the small values postwardenctl takes on its command line: label selectors
// ("k=v,k=v"), durations ("30m", "1h", "7d", "90") and baseline references ("NAME@DIGEST").
// Pure: no I/O; every error is InvalidArgument with one sentence naming the bad text.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace postwarden::controller::ctl {

using Labels = std::map<std::string, std::string>;

// True when `word` is a valid label key or value: [A-Za-z0-9._-]{1,63}.
bool isValidLabelWord(std::string_view word);

// Parses "k=v[,k=v...]" into `into` (merged with what it holds, so a repeated option adds
// pairs). `option` names the flag in messages ("--selector"). InvalidArgument for an empty
// text, a pair without '=', an invalid key or value, or a key given twice.
Status parseLabels(std::string_view text, std::string_view option, Labels& into);

// common/duration.h's parseDuration ("30s", "30m", "1h", "7d", plain seconds "90", also
// "2000ms"), as whole seconds from 1 s to 366 d; `option` names the flag in the message.
Result<int64_t> parseDuration(std::string_view text, std::string_view option);

// A whole decimal number in [min, max]; `what` names it in the message.
Result<int64_t> parseInteger(std::string_view text, int64_t min, int64_t max,
                             std::string_view what);

struct BaselineRef {
  std::string name;
  std::string digest;  // a full content digest or a unique prefix
};

// "NAME@DIGEST": both parts required; NAME and DIGEST are [A-Za-z0-9._-]{1,63}.
Result<BaselineRef> parseBaselineRef(std::string_view text);

}  // namespace postwarden::controller::ctl
