// "Did you mean" for the loader's diagnostics (did_you_mean.hpp).
#include "config/did_you_mean.hpp"

#include <algorithm>
#include <vector>

#include "core/text.hpp"

namespace tlspolicy {
namespace {

// Optimal string alignment distance, case-insensitive: "min_verison" is 1 from
// "min_version".
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t cost = ascii_lower(a[i - 1]) == ascii_lower(b[j - 1]) ? 0 : 1;
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
            if (i > 1 && j > 1 && ascii_lower(a[i - 1]) == ascii_lower(b[j - 2]) &&
                ascii_lower(a[i - 2]) == ascii_lower(b[j - 1]))
                cur[j] = std::min(cur[j], prev2[j - 2] + 1);
        }
        std::swap(prev2, prev);
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

template <class Range>
std::string join_one_of(const Range& words) {
    std::string out;
    std::size_t n = std::size(words), i = 0;
    for (std::string_view w : words) {
        if (i > 0) out += (i + 1 == n) ? " or " : ", ";
        out += w;
        ++i;
    }
    return out;
}

}  // namespace

std::string_view closest(std::string_view word, std::span<const std::string_view> candidates) {
    const std::size_t limit = word.size() >= 8 ? 2 : 1;
    std::string_view best;
    std::size_t best_distance = limit + 1;
    bool unique = false;
    for (std::string_view c : candidates) {
        std::size_t d = edit_distance(word, c);
        if (d < best_distance) {
            best = c;
            best_distance = d;
            unique = true;
        } else if (d == best_distance) {
            unique = false;
        }
    }
    return unique ? best : std::string_view{};
}

std::string one_of(std::span<const std::string_view> words) { return join_one_of(words); }
std::string one_of(std::span<const std::string> words) { return join_one_of(words); }

}  // namespace tlspolicy
