// One word per enum value, spelled once. Every enum whose values reach a log
// line, a metrics label, a store column, a report or explain declares a table
// of {value, word} right below itself (kStageWords beside Stage, ...), and
// word() / from_word() are the only way between value and text. A new word
// for the logs, the store or the report goes into that table.
#pragma once
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
template <class E>
constexpr std::string_view word(E value) {
    for (const Word<E>& w : words(E{}))
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
