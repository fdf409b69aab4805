// Hostile policy files: what is not a regular file, what
// is too large and what nests too deep is refused with a diagnostic before a
// parser sees it, instead of aborting, hanging or overflowing the stack.
// load_config_file is what --check and the daemon's start and reload call.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/config_loader_internal.hpp"
#include "config/policy_file.hpp"
#include "config/toml_document.hpp"

namespace tlspolicy {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines_of(const LoadResult& r) {
    std::vector<std::string> out;
    for (const Diagnostic& d : r.diagnostics) out.push_back(d.format());
    return out;
}

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "policy_file_test.XXXXXX").string();
        EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    std::string file(const std::string& name, const std::string& content) const {
        std::string p = (path_ / name).string();
        std::ofstream(p, std::ios::binary) << content;
        return p;
    }
    std::string path() const { return path_.string(); }

private:
    fs::path path_;
};

std::string repeat(std::string_view s, int n) {
    std::string out;
    out.reserve(s.size() * n);
    for (int i = 0; i < n; ++i) out += s;
    return out;
}

TEST(PolicyFile, DirectoryIsRefused) {
    TempDir dir;
    const std::string want = dir.path() + ": is a directory: give the policy file itself, such as -c " + dir.path() +
                             "/tlspolicy-milter.toml";
    EXPECT_EQ(lines_of(load_config_file(dir.path())), std::vector<std::string>{want});
    // A trailing slash does not double it.
    EXPECT_EQ(lines_of(load_config_file(dir.path() + "/")),
              std::vector<std::string>{dir.path() + "/: is a directory: give the policy file itself, such as -c " +
                                       dir.path() + "/tlspolicy-milter.toml"});
}

TEST(PolicyFile, DeviceIsRefusedWithoutReadingIt) {
    for (const char* device : {"/dev/zero", "/dev/null"}) {
        LoadResult r = load_config_file(device);
        EXPECT_FALSE(r.ok());
        EXPECT_EQ(lines_of(r), std::vector<std::string>{std::string(device) +
                                                        ": is not a regular file (a device, FIFO or socket): give "
                                                        "the path of the policy file"});
    }
}

// Opening a FIFO for reading waits for a writer unless we take care.
TEST(PolicyFile, FifoIsRefusedWithoutWaitingForAWriter) {
    TempDir dir;
    const std::string fifo = dir.path() + "/policy.fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_EQ(lines_of(load_config_file(fifo)),
              std::vector<std::string>{fifo + ": is not a regular file (a device, FIFO or socket): give the path of "
                                              "the policy file"});
}

// A sparse file: the size says enough, nothing is read.
TEST(PolicyFile, FileAboveTheLimitIsRefused) {
    TempDir dir;
    const std::string big = dir.file("big.toml", "");
    ASSERT_EQ(::truncate(big.c_str(), static_cast<off_t>(kMaxPolicyFileBytes + 1)), 0);
    EXPECT_EQ(lines_of(load_config_file(big)),
              std::vector<std::string>{big + ": is larger than 64 MiB, far more than a policy file needs (100,000 "
                                             "rules take about 12 MB): check that -c names the policy file"});
}

TEST(PolicyFile, LimitIsExact) {
    TempDir dir;
    const std::string p = dir.file("ten.toml", "# 345678\n\n");
    std::string text;
    EXPECT_FALSE(read_policy_file(p, text, 10).has_value());
    EXPECT_EQ(text, "# 345678\n\n");
    std::optional<Diagnostic> d = read_policy_file(p, text, 9);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->format(), p + ": is larger than 9 bytes, far more than a policy file needs (100,000 rules take "
                               "about 12 MB): check that -c names the policy file");
}

// /proc files are regular and say their size is 0: reading stops one byte
// past the limit whatever the size claimed.
TEST(PolicyFile, ReadingStopsPastTheLimitWhateverTheSizeSays) {
    struct stat st {};
    ASSERT_EQ(::stat("/proc/self/status", &st), 0);
    ASSERT_TRUE(S_ISREG(st.st_mode));
    ASSERT_EQ(st.st_size, 0);
    std::string text = "left over";
    std::optional<Diagnostic> d = read_policy_file("/proc/self/status", text, 16);
    ASSERT_TRUE(d.has_value());
    EXPECT_NE(d->message.find("is larger than 16 bytes"), std::string::npos) << d->format();
    EXPECT_TRUE(text.empty());
}

// A 100,000-rule file is about 12 MB (tests/bench/policy_scale.cpp): the limit
// must leave it, and files several times its size, alone.
TEST(PolicyFile, LimitIsWellAboveTheSupportedScale) { EXPECT_GE(kMaxPolicyFileBytes, 4u * 12'100'000u); }

// ---------------------------------------------------------------------------
// Nesting: each of these crashed (stack overflow in toml++) or would, before
// the scan; a file on disk goes through the same load as --check and reload.

struct DeepCase {
    const char* name;
    std::string toml;
    std::string want;  // the one diagnostic, with t.toml as the file
};

std::vector<DeepCase> deep_cases() {
    return {
        {"DottedTableHeader", "[" + repeat("a.", 100000) + "b]\n",
         "t.toml:1:1: this table header nests more than 32 levels deep (a level per dotted part): a policy file "
         "needs one part, such as [milter] or [[partner]]"},
        {"DottedArrayTableHeader", "[milter]\nmode = \"monitor\"\n\n  [[" + repeat("p.", 40) + "q]]\n",
         "t.toml:4:3: this table header nests more than 32 levels deep (a level per dotted part): a policy file "
         "needs one part, such as [milter] or [[partner]]"},
        {"DottedKey", repeat("a.", 100000) + "b = 1\n",
         "t.toml:1:1: this dotted key nests more than 32 levels deep: write plain keys inside a section, such as "
         "min_version = \"TLSv1.2\" under [defaults]"},
        // The header's 20 levels and the key's 20 add up.
        {"DottedKeyBelowADottedHeader", "[" + repeat("a.", 19) + "a]\n" + repeat("b.", 19) + "b = 1\n",
         "t.toml:2:1: this dotted key nests more than 32 levels deep: write plain keys inside a section, such as "
         "min_version = \"TLSv1.2\" under [defaults]"},
        {"NestedArrays", "[milter]\ntimeout = " + repeat("[", 5000) + repeat("]", 5000) + "\n",
         "t.toml:2:41: arrays and inline tables nest more than 32 levels deep here: a policy file needs one level, "
         "such as senders = [\"a.example\"]"},
        {"NestedInlineTables", "x = " + repeat("{a=", 5000) + "1" + repeat("}", 5000) + "\n",
         "t.toml:1:99: inline tables and dotted keys nest more than 32 levels deep here: a policy file needs none, "
         "write [sections] with plain keys"},
        {"ArraysOfInlineTables", "x = " + repeat("[{a=", 20) + "1" + repeat("}]", 20) + "\n",
         "t.toml:1:67: inline tables and dotted keys nest more than 32 levels deep here: a policy file needs none, "
         "write [sections] with plain keys"},
        // Columns count characters: the "é" is two bytes and one column.
        {"ColumnCountsCharacters", "[header]\nname = \"é\"\nx = 1 # é\n  é = " + repeat("[", 40) + "\n",
         "t.toml:4:37: arrays and inline tables nest more than 32 levels deep here: a policy file needs one level, "
         "such as senders = [\"a.example\"]"},
        // Lines inside a multi-line string and a multi-line array are counted.
        {"LinesAreCounted", "[header]\nname = \"\"\"a\nb\n\"\"\"\nx = [\n 1,\n " + repeat("[", 40) + "]\n",
         "t.toml:7:31: arrays and inline tables nest more than 32 levels deep here: a policy file needs one level, "
         "such as senders = [\"a.example\"]"},
    };
}

class DeepNesting : public ::testing::TestWithParam<DeepCase> {};

void PrintTo(const DeepCase& c, std::ostream* os) { *os << c.name; }

TEST_P(DeepNesting, IsRefusedWithItsPosition) {
    const DeepCase& c = GetParam();
    LoadResult r = load_config_text(c.toml, "t.toml");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(lines_of(r), std::vector<std::string>{c.want});
    EXPECT_EQ(lines_of(load_config_text_with_tomlplusplus(c.toml, "t.toml")), std::vector<std::string>{c.want});
}

// The same from a file, as --check and SIGHUP read it.
TEST_P(DeepNesting, IsRefusedFromAFile) {
    TempDir dir;
    const std::string p = dir.file("deep.toml", GetParam().toml);
    LoadResult r = load_config_file(p);
    ASSERT_EQ(r.diagnostics.size(), 1u);
    EXPECT_EQ(r.diagnostics[0].file, p);
    EXPECT_FALSE(r.ok());
}

INSTANTIATE_TEST_SUITE_P(Config, DeepNesting, ::testing::ValuesIn(deep_cases()),
                         [](const auto& param) { return std::string(param.param.name); });

// What looks deep but is not: brackets and dots inside strings, comments and
// quoted keys, and nesting right at the limit. These reach toml++ and the loader.
TEST(DeepNesting, StringsCommentsAndTheLimitItselfPass) {
    const std::string at_limit_header = "[" + repeat("a.", toml_doc::kMaxNesting - 1) + "a]\n";
    const std::string at_limit_arrays = "x = " + repeat("[", toml_doc::kMaxNesting - 1) +
                                        repeat("]", toml_doc::kMaxNesting - 1) + "\n";
    const std::string texts[] = {
        "[[partner]]\nname = \"a\"\nsenders = [\"a.example\"]\nrequire_tls = true\nreply = \"" + repeat("[{", 100) +
            repeat(".", 100) + "\"\n",
        "# " + repeat("[a.", 100) + "\n[milter]\nmode = \"monitor\"\n",
        "[header]\nname = 'X-" + repeat("[", 100) + "'\n",
        "[header]\nauthserv_id = \"\"\"\n" + repeat("[a.b.\n", 100) + "\"\"\"\n",
        "[header]\nauthserv_id = '''" + repeat("{", 100) + "'''\n",
        "[header]\nauthserv_id = \"\\\"" + repeat("[", 100) + "\"\n",
        "[\"" + repeat("a.", 100) + "\"]\nx = 1\n",
        "\"" + repeat("a.", 100) + "\" = 1\n",
        at_limit_header,
        at_limit_arrays,
    };
    for (const std::string& text : texts)
        EXPECT_FALSE(toml_doc::nesting_problem(text).has_value())
            << text << "\n-> " << toml_doc::nesting_problem(text)->message;
    // At the limit toml++ reads it and the loader says what is wrong with it.
    EXPECT_EQ(lines_of(load_config_text(at_limit_header, "t.toml")),
              std::vector<std::string>{"t.toml:1:1: unknown section [a]"});
    // One more is refused; [[...]] is a level more than [...], as in toml++'s tree.
    EXPECT_TRUE(toml_doc::nesting_problem("[" + repeat("a.", toml_doc::kMaxNesting) + "a]\n").has_value());
    EXPECT_FALSE(toml_doc::nesting_problem("[[" + repeat("a.", toml_doc::kMaxNesting - 2) + "a]]\n").has_value());
    EXPECT_TRUE(toml_doc::nesting_problem("[[" + repeat("a.", toml_doc::kMaxNesting - 1) + "a]]\n").has_value());
    EXPECT_TRUE(toml_doc::nesting_problem("x = " + repeat("[", toml_doc::kMaxNesting)).has_value());
}

}  // namespace
}  // namespace tlspolicy
