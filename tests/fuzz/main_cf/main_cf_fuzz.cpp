// libFuzzer target for the main.cf and master.cf documents. Properties, any violation traps:
//   - serialize(parse(x)) == x, for both documents;
//   - after set(name, value) the re-parsed text yields get(name) == value, the edit reports
//     a change exactly when the value differed, and a second identical set is a no-op;
//   - after remove(name) the name is undefined;
//   - master.cf setOption either fails cleanly or reads back the value it set.
// The name and value come from the first bytes of the input, the rest is the file.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/postfix/main_cf_document.h"
#include "agent/postfix/master_cf_document.h"
#include "common/check.h"

namespace {

using postwarden::agent::postfix::MainCfDocument;
using postwarden::agent::postfix::MasterCfDocument;

// A settable name built from a byte: one of a few names likely to appear in the fuzzed text.
std::string pickName(uint8_t b) {
  static const char* const kNames[] = {"a", "b", "biff", "mynetworks", "x_y", "smtpd_banner"};
  return kNames[b % (sizeof(kNames) / sizeof(kNames[0]))];
}

// A settable value: the given bytes with control characters replaced.
std::string makeValue(std::string_view bytes) {
  std::string v(bytes);
  for (char& c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = ' ';
  }
  return v;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // Round trips on the whole input.
  const MainCfDocument main_cf = MainCfDocument::parse(input);
  PW_CHECK(main_cf.serialize() == input);
  const MasterCfDocument master_cf = MasterCfDocument::parse(input);
  PW_CHECK(master_cf.serialize() == input);

  if (size < 2) return 0;
  const std::string name = pickName(data[0]);
  const size_t value_size = std::min<size_t>(data[1] % 16, size - 2);
  const std::string value = makeValue(input.substr(2, value_size));
  const std::string_view text = input.substr(2 + value_size);
  const std::string expected(trim(value));

  MainCfDocument doc = MainCfDocument::parse(text);
  PW_CHECK(doc.serialize() == text);
  const bool differed = doc.get(name) != expected;
  const auto result = doc.set(name, value);
  PW_CHECK(result.changed == differed);
  const MainCfDocument reread = MainCfDocument::parse(doc.serialize());
  PW_CHECK(reread.get(name) == expected);
  PW_CHECK(reread.serialize() == doc.serialize());
  if (differed) {
    for (const std::string& d : reread.duplicateNames()) PW_CHECK(d != name);
  }
  PW_CHECK(!doc.set(name, value).changed);

  MainCfDocument removed = reread;
  removed.remove(name);
  PW_CHECK(!MainCfDocument::parse(removed.serialize()).get(name).has_value());

  // master.cf: set an option on the first service, if there is one.
  MasterCfDocument master = MasterCfDocument::parse(text);
  const auto services = master.services();
  if (!services.empty()) {
    const auto key = services.front().key;
    const auto r = master.setOption(key, name, value);
    if (r.ok()) {
      const MasterCfDocument again = MasterCfDocument::parse(master.serialize());
      PW_CHECK(again.option(key, name) == expected);
      MasterCfDocument removed_option = again;
      const auto rr = removed_option.removeOption(key, name);
      PW_CHECK(rr.ok());
      PW_CHECK(!MasterCfDocument::parse(removed_option.serialize()).option(key, name));
    } else {
      // Only a value Postfix cannot read back, or an entry with an unclosed '{', may be
      // refused; Internal would be our bug.
      PW_CHECK(r.status().code() == postwarden::StatusCode::kInvalidArgument ||
               r.status().code() == postwarden::StatusCode::kFailedPrecondition);
      PW_CHECK(master.serialize() == text);
    }
  }
  return 0;
}
