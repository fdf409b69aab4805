// core/escape.hpp: the one escaper every output format uses.
#include <gtest/gtest.h>

#include <string>

#include "core/escape.hpp"

namespace tlspolicy {
namespace {

TEST(Escape, EachFormat) {
    struct Case {
        const char* name;
        std::string in;
        std::string want_json, want_csv, want_html, want_line;
    };
    const Case cases[] = {
        {"plain", "acme.example", "\"acme.example\"", "acme.example", "acme.example", "acme.example"},
        {"quotes", "say \"hi\"", "\"say \\\"hi\\\"\"", "\"say \"\"hi\"\"\"", "say &quot;hi&quot;", "say \"hi\""},
        {"backslash", "a\\b", "\"a\\\\b\"", "a\\b", "a\\b", "a\\b"},
        {"comma", "a,b", "\"a,b\"", "\"a,b\"", "a,b", "a,b"},
        {"newline", "a\r\nb", "\"a\\u000d\\u000ab\"", "\"a\r\nb\"", "a\r\nb", "a\\x0d\\x0ab"},
        {"markup", "<script>&", "\"<script>&\"", "<script>&", "&lt;script&gt;&amp;", "<script>&"},
        {"control", std::string("a\x01\x7f", 3), "\"a\\u0001\x7f\"", std::string("a\x01\x7f", 3),
         std::string("a\x01\x7f", 3), "a\\x01\\x7f"},
        {"utf8 passes", "Grüße", "\"Grüße\"", "Grüße", "Grüße", "Grüße"},
    };
    for (const Case& c : cases) {
        EXPECT_EQ(json_string(c.in), c.want_json) << c.name;
        EXPECT_EQ(csv_field(c.in), c.want_csv) << c.name;
        EXPECT_EQ(html(c.in), c.want_html) << c.name;
        EXPECT_EQ(line_text(c.in), c.want_line) << c.name;
    }
}

}  // namespace
}  // namespace tlspolicy
