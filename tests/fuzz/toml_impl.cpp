// toml++ compiled into the fuzz targets from its headers, with the same
// settings as the packaged shared library the product links: the parser is
// then instrumented too, so libFuzzer's coverage reaches into it.
//
// Built as Debian's library is (release, by g++): no debug assertions, and an
// "assert-assume" is no hint to the optimiser either. toml++ 3.3.0 asserts on
// a table header such as "[$x]" (upstream marzer/tomlplusplus PR #301) where
// the release build reports a parse error; the product sees the latter.
//
// Compiled with -fno-sanitize=unreachable (fuzz.mk): toml++ 3.3.0 reaches
// TOML_UNREACHABLE (__builtin_unreachable) in is_non_ascii_horizontal_whitespace
// for some non-ASCII characters (seen here: U+0425 in "cor=\xd0\xa5c" after "-[")
// (upstream issues #190 and #295, fixed by PR #305). That is undefined
// behaviour in the packaged library too, and not ours to fix here; UBSan would
// stop at it on nearly every run. ASan still watches every access.
#define NDEBUG
#define TOML_HEADER_ONLY 0
#define TOML_SHARED_LIB 1
#define TOML_IMPLEMENTATION
#include <toml++/impl/preprocessor.h>
#undef TOML_ASSERT_ASSUME
#define TOML_ASSERT_ASSUME(expr) static_assert(true)
#include <toml++/toml.h>
