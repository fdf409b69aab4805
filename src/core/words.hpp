// One word per enum value, spelled once. Every enum whose values reach a log
// line, a metrics label, a store column, a report or explain declares a table
// of {value, word} right below itself (kStageWords beside Stage, ...), and
// word() / from_word() are the only way between value and text. A new word
// for the logs, the store or the report goes into that table.
#pragma once
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace tlspolicy {

template <class E>
struct Word {
    E value;
    std::string_view word;
};

// Each enum's header defines `constexpr std::span<const Word<E>> words(E)`,
// found here by argument-dependent lookup.
// A table listed in its enum's order (most are) answers at once: word() is on
// the milter's path, once per macro read (the callgrind profile of the
// protocol benchmark, BENCHMARKS.md); the loop serves any other.
template <class E>
constexpr std::string_view word(E value) {
    const std::span<const Word<E>> table = words(E{});
    if (const auto i = static_cast<std::size_t>(value); i < table.size() && table[i].value == value)
        return table[i].word;
    for (const Word<E>& w : table)
        if (w.value == value) return w.word;
    return "?";
}

template <class E>
constexpr std::optional<E> from_word(std::string_view text) {
    for (const Word<E>& w : words(E{}))
        if (w.word == text) return w.value;
    return std::nullopt;
}

}  // namespace tlspolicy
