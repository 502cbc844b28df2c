// Aligned text tables for postwardenctl: a header row, then rows, columns separated by two
// spaces and padded to the widest cell (by UTF-8 code points). Cells are made printable, so
// text from the controller cannot carry terminal escapes; colors are added only on request.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace postwarden::controller::ctl {

enum class Color { kNone, kGreen, kYellow, kRed };

struct Cell {
  Cell(std::string t, Color c = Color::kNone) : text(std::move(t)), color(c) {}  // NOLINT
  Cell(const char* t, Color c = Color::kNone) : text(t), color(c) {}             // NOLINT
  std::string text;
  Color color = Color::kNone;
};

// `text` wrapped in the ANSI sequence for `color` when `enabled`, else unchanged.
std::string colorize(const std::string& text, Color color, bool enabled);

class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  // A row with fewer cells than headers is padded with empty cells; extra cells are a bug.
  void addRow(std::vector<Cell> cells);

  bool empty() const { return rows_.empty(); }

  // Header and rows, one line each ending in "\n"; no trailing spaces. With `color`, cells
  // with a color get ANSI sequences (padding stays outside them).
  std::string render(bool color) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<Cell>> rows_;
};

}  // namespace postwarden::controller::ctl
