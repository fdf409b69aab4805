// Inputs the fuzz targets (tests/fuzz/) found a fault with, kept as unit tests
// so the fault stays fixed under `make check` without a fuzzer.
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "core/sanitize.hpp"

namespace tlspolicy {
namespace {

// fuzz-sanitize: with max < 3, sanitize_text returned "..." (3 bytes), longer
// than the max it promises never to exceed.
TEST(FuzzRegressions, SanitizeTextStaysWithinASmallMax) {
    struct {
        std::size_t max;
        std::string want;
    } cases[] = {{0, ""}, {1, "."}, {2, ".."}, {3, "..."}, {4, "a..."}};
    for (const auto& c : cases) {
        std::string got = sanitize_text("abcdef", c.max);
        EXPECT_EQ(got, c.want) << "max " << c.max;
        EXPECT_LE(got.size(), c.max) << "max " << c.max;
    }
}

// fuzz-config: toml++ quotes the bytes it stopped at, control characters
// included ("saw 'fals\n'"), and the diagnostic went to the log as two lines.
TEST(FuzzRegressions, DiagnosticsCarryNoControlCharacters) {
    const char* texts[] = {
        "[milter]\nmode = \"monitor\"\n[header]\nstrip_forged = fals\x01\n",
        "[header]\nstrip_forged = tr\x1c\n",
        "[[partner]]\nname = \"a\\u0007b\"\nsenders = [\"a\\u0000.example\"]\n",
    };
    for (const char* text : texts) {
        LoadResult r = load_config_text(text, "t.toml");
        ASSERT_FALSE(r.diagnostics.empty()) << text;
        for (const Diagnostic& d : r.diagnostics)
            for (char c : d.format())
                EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << d.format();
    }
}

}  // namespace
}  // namespace tlspolicy
