// "Did you mean ...?" (see suggest.h).
#include "core/suggest.h"

#include <algorithm>
#include <vector>

namespace qpipe {

size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rows of the dynamic-programming table: the one before the
  // previous is what a swap of two neighbours looks back to.
  std::vector<size_t> before(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        cur[j] = std::min(cur[j], before[j - 2] + 1);
    }
    std::swap(before, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::optional<std::string> closest(std::string_view word, std::span<const std::string> candidates) {
  const size_t limit = word.size() <= 4 ? 1 : 2;
  size_t best = limit + 1;
  const std::string* found = nullptr;
  bool tie = false;
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best) {
      best = d;
      found = &c;
      tie = false;
    } else if (d == best && found && *found != c) {
      tie = true;
    }
  }
  if (found && !tie) return *found;
  if (found) return std::nullopt;
  if (word.size() < 3) return std::nullopt;
  const std::string* prefixed = nullptr;
  for (const auto& c : candidates) {
    if (c.size() <= word.size() || c.compare(0, word.size(), word) != 0) continue;
    if (prefixed && *prefixed != c) return std::nullopt;
    prefixed = &c;
  }
  if (prefixed) return *prefixed;
  return std::nullopt;
}

} // namespace qpipe
