// Shared by the fuzz targets: splitting an input into fields, and the checks
// that turn a broken promise (control characters in a header, a reply or a
// log line; an unbounded length) into a crash libFuzzer records.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace tlspolicy::fuzz {

// Aborts with a message: libFuzzer saves the input as a crash.
[[noreturn]] inline void fail(std::string_view what, std::string_view text) {
    std::fprintf(stderr, "FUZZ PROPERTY VIOLATED: %.*s\n  text (%zu bytes): ", static_cast<int>(what.size()),
                 what.data(), text.size());
    for (unsigned char c : text.substr(0, 600)) {
        if (c >= 0x20 && c < 0x7f && c != '\\')
            std::fputc(c, stderr);
        else
            std::fprintf(stderr, "\\x%02x", c);
    }
    std::fputc('\n', stderr);
    std::abort();
}

inline void require(bool ok, std::string_view what, std::string_view text = {}) {
    if (!ok) fail(what, text);
}

// Printable ASCII only: no CR, LF, NUL, other control characters or 8-bit bytes.
inline bool printable(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c >= 0x7f) return false;
    return true;
}

inline void require_printable(std::string_view s, std::string_view what) {
    if (!printable(s)) fail(what, s);
}

// No CR, LF, NUL or other control characters (C0, DEL); 8-bit bytes (UTF-8
// written by the operator, e.g. a rule name) may pass.
inline bool no_controls(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return false;
    return true;
}

// The input as NUL-separated fields, the way libmilter hands over macro values
// and command arguments (C strings: they can never contain NUL themselves).
inline std::vector<std::string_view> split_fields(const std::uint8_t* data, std::size_t size) {
    std::vector<std::string_view> out;
    std::string_view in(reinterpret_cast<const char*>(data), size);
    std::size_t start = 0;
    for (;;) {
        std::size_t end = in.find('\0', start);
        if (end == std::string_view::npos) {
            out.push_back(in.substr(start));
            return out;
        }
        out.push_back(in.substr(start, end - start));
        start = end + 1;
    }
}

}  // namespace tlspolicy::fuzz
