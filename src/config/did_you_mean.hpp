// Words for diagnostics: the known name a misspelt one was meant to be, and
// lists written as an operator reads them.
#pragma once
#include <span>
#include <string>
#include <string_view>

namespace tlspolicy {

// The one candidate close enough to `word` (case-insensitive edit distance 1,
// 2 for words of 8 letters or more) to be what was meant, or "".
std::string_view closest(std::string_view word, std::span<const std::string_view> candidates);

// "a, b or c"
std::string one_of(std::span<const std::string_view> words);
std::string one_of(std::span<const std::string> words);

}  // namespace tlspolicy
