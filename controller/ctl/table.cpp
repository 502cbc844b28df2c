#include "controller/ctl/table.h"

#include <algorithm>
#include <cstdlib>

#include "controller/ctl/format.h"

namespace postwarden::controller::ctl {
namespace {

size_t displayWidth(const std::string& text) {
  size_t width = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++width;  // skip continuation bytes
  }
  return width;
}

}  // namespace

std::string colorize(const std::string& text, Color color, bool enabled) {
  if (!enabled) return text;
  switch (color) {
    case Color::kGreen:
      return "\x1b[32m" + text + "\x1b[0m";
    case Color::kYellow:
      return "\x1b[33m" + text + "\x1b[0m";
    case Color::kRed:
      return "\x1b[31m" + text + "\x1b[0m";
    case Color::kNone:
      break;
  }
  return text;
}

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::addRow(std::vector<Cell> cells) {
  if (cells.size() > headers_.size()) std::abort();  // a bug in the caller
  for (Cell& cell : cells) cell.text = printable(cell.text);
  cells.resize(headers_.size(), Cell(""));
  rows_.push_back(std::move(cells));
}

std::string Table::render(bool color) const {
  std::vector<size_t> widths(headers_.size());
  for (size_t i = 0; i < headers_.size(); ++i) widths[i] = displayWidth(headers_[i]);
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], displayWidth(row[i].text));
    }
  }
  std::string out;
  auto line = [&](const std::vector<Cell>& cells) {
    std::string text;
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) text += "  ";
      text += colorize(cells[i].text, cells[i].color, color);
      if (i + 1 < cells.size()) text.append(widths[i] - displayWidth(cells[i].text), ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  };
  std::vector<Cell> header;
  for (const std::string& h : headers_) header.emplace_back(h);
  line(header);
  for (const auto& row : rows_) line(row);
  return out;
}

}  // namespace postwarden::controller::ctl
