// Parsers for the small values postwardenctl takes on its command line: label selectors
// ("k=v,k=v"), durations ("30m", "1h", "7d", "90") and baseline references ("NAME@VERSION").
// Pure: no I/O; every error is InvalidArgument with one sentence naming the bad text.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace postwarden::controller::ctl {

using Labels = std::map<std::string, std::string>;

// True when `word` is a valid label key or value: [A-Za-z0-9._-]{1,63}.
bool isValidLabelWord(std::string_view word);

// Parses "k=v[,k=v...]" into `into` (merged with what it holds, so a repeated option adds
// pairs). `option` names the flag in messages ("--selector"). InvalidArgument for an empty
// text, a pair without '=', an invalid key or value, or a key given twice.
Status parseLabels(std::string_view text, std::string_view option, Labels& into);

// "30s", "30m", "1h", "7d", or plain seconds ("90"). Returns seconds, 1 s to 366 d.
Result<int64_t> parseDuration(std::string_view text, std::string_view option);

// A whole decimal number in [min, max]; `what` names it in the message.
Result<int64_t> parseInteger(std::string_view text, int64_t min, int64_t max,
                             std::string_view what);

struct BaselineRef {
  std::string name;
  std::string version;
};

// "NAME@VERSION": both parts required; NAME and VERSION are [A-Za-z0-9._-]{1,63}.
Result<BaselineRef> parseBaselineRef(std::string_view text);

// " (did you mean 'X'?)" for the choice closest to a misspelt `word` (edit distance at most
// 2, or 3 for long words), else "".
std::string didYouMean(std::string_view word, const std::vector<std::string>& choices);

}  // namespace postwarden::controller::ctl
