// ServiceView: the value a parameter effectively has in the daemon of one master.cf service
// (its -o override, else main.cf, else Postfix's default), with $name, ${name} and $(name)
// expanded the way Postfix does (postconf(5) "parameter expansion"; depth-limited against
// loops). Pure; borrows the documents and the catalog, which must outlive it.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

#include "agent/params/parameter_catalog.h"
#include "agent/postfix/effective_config.h"
#include "agent/postfix/main_cf_document.h"
#include "agent/postfix/master_cf_document.h"

namespace postwarden::agent::planner {

class ServiceView {
 public:
  ServiceView(const postfix::MainCfDocument& main, const postfix::MasterCfDocument& master,
              postfix::ServiceKey service, const params::ParameterCatalog& catalog)
      : main_(main), master_(master), service_(std::move(service)), catalog_(catalog) {}

  postfix::EffectiveValue raw(std::string_view name) const {
    return postfix::effectiveValue(main_, master_, service_, name,
                                   [this](std::string_view n) { return catalog_.defaultValue(n); });
  }

  std::string expanded(std::string_view name, int depth = 0) const {
    postfix::EffectiveValue v = raw(name);
    return v.value ? expand(*v.value, depth) : std::string();
  }

  // `value` as this service's daemon would expand it (a main.cf value it would inherit).
  std::string expandedText(std::string_view value) const { return expand(value, 0); }

 private:
  std::string expand(std::string_view value, int depth) const {
    if (depth > 10 || value.find('$') == std::string_view::npos) return std::string(value);
    std::string out;
    for (size_t i = 0; i < value.size(); ++i) {
      if (value[i] != '$' || i + 1 >= value.size()) {
        out += value[i];
        continue;
      }
      size_t start = i + 1;
      char close = 0;
      if (value[start] == '{') close = '}';
      if (value[start] == '(') close = ')';
      if (close) ++start;
      size_t end = start;
      while (end < value.size() &&
             (std::isalnum(static_cast<unsigned char>(value[end])) || value[end] == '_')) {
        ++end;
      }
      if (end == start || (close && (end >= value.size() || value[end] != close))) {
        out += value[i];  // not an expansion we understand; keep the text
        continue;
      }
      out += expanded(value.substr(start, end - start), depth + 1);
      i = close ? end : end - 1;
    }
    return out;
  }

  const postfix::MainCfDocument& main_;
  const postfix::MasterCfDocument& master_;
  postfix::ServiceKey service_;
  const params::ParameterCatalog& catalog_;
};

}  // namespace postwarden::agent::planner
