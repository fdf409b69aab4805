// The documentation agrees with the schema (src/config/schema.cpp), as Postfix's
// check-postconf-undocumented does for main.cf: every key is in
// man/tlspolicy-milter.toml.5 and in conf/tlspolicy-milter.toml, neither names a
// key that does not exist, each man page entry states the schema's type,
// default, values, example and whether it takes effect only on restart, the
// .8 page lists the restart-only keys and every option, and every policy file
// shipped in conf/ loads without a diagnostic.
#include <gtest/gtest.h>

#include "core/stage_plan.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "config/config.hpp"
#include "config/reload_scope.hpp"
#include "config/schema.hpp"
#include "golden.hpp"

namespace tlspolicy {
namespace {

namespace fs = std::filesystem;

constexpr const char* kKeysPage = "man/tlspolicy-milter.toml.5";
constexpr const char* kDaemonPage = "man/tlspolicy-milter.8";
constexpr const char* kSample = "conf/tlspolicy-milter.toml";

using tests::read_file;
using tests::source_dir;

std::vector<std::string> read_lines(const fs::path& p) {
    std::vector<std::string> lines;
    std::istringstream in(read_file(p));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// "[[partner]]" or "[milter] name": how a failure names a key.
std::string where(Section s, std::string_view key) { return section_header(s) + " " + std::string(key); }

// --- roff, as far as the pages use it --------------------------------------

// The text roff prints for an escape-laden string: fonts dropped, \(dq -> ".
std::string unescape(std::string_view in) {
    static const std::map<std::string, std::string> named{
        {"dq", "\""}, {"aq", "'"}, {"ga", "`"}, {"lq", "\""}, {"rq", "\""}, {"bu", "*"}, {"em", "--"}, {"en", "-"}};
    std::string out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '\\' || i + 1 == in.size()) {
            out += in[i];
            continue;
        }
        char c = in[++i];
        if (c == 'f' && i + 1 < in.size()) ++i;  // \fB \fI \fR \fP
        else if (c == '(' && i + 2 < in.size()) {
            auto it = named.find(std::string(in.substr(i + 1, 2)));
            out += it != named.end() ? it->second : "?";
            i += 2;
        } else if (c == '-') out += '-';
        else if (c == 'e') out += '\\';
        else if (c == '~' || c == ' ') out += ' ';
        // \% \& \| \c: nothing printed
    }
    return out;
}

// A request's arguments: space-separated, "quoted" when they hold spaces.
std::vector<std::string> roff_args(std::string_view s) {
    std::vector<std::string> args;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == ' ') ++i;
        if (i == s.size()) break;
        std::string arg;
        if (s[i] == '"') {
            for (++i; i < s.size() && s[i] != '"'; ++i) arg += s[i];
            ++i;
        } else {
            for (; i < s.size() && s[i] != ' '; ++i) arg += s[i];
        }
        args.push_back(arg);
    }
    return args;
}

// What one input line prints: text lines as they are, font requests
// (.B, .BR, ...) their arguments, other requests nothing.
std::string roff_text(const std::string& line) {
    if (line.empty() || (line[0] != '.' && line[0] != '\'')) return unescape(line);
    const std::size_t space = line.find(' ');
    const std::string macro = line.substr(1, space == std::string::npos ? std::string::npos : space - 1);
    const std::vector<std::string> args = roff_args(space == std::string::npos ? "" : line.substr(space + 1));
    std::string out;
    if (macro == "B" || macro == "I" || macro == "SM") {
        for (const std::string& a : args) out += (out.empty() ? "" : " ") + a;
    } else if (macro.size() == 2 && std::string("BIR").find(macro[0]) != std::string::npos &&
               std::string("BIR").find(macro[1]) != std::string::npos) {
        for (const std::string& a : args) out += a;  // alternating fonts: no spaces between
    }
    return unescape(out);
}

std::string request_of(const std::string& line) {
    if (line.empty() || line[0] != '.') return {};
    return line.substr(0, line.find(' '));
}

// --- the key reference of tlspolicy-milter.toml(5) -------------------------
// Under ".SH SECTIONS AND KEYS", each ".SS" heading names the sections its
// keys belong to ("[milter]", "[defaults], [[partner]] and [[recipient]]"),
// and each key is a ".TP" entry tagged ".B key".

struct ManEntry {
    std::vector<Section> sections;
    std::string key;
    int line = 0;
    std::string body;  // the entry's printed text, one line
};

struct KeysPage {
    std::vector<ManEntry> entries;
    std::vector<std::string> problems;
};

std::vector<Section> heading_sections(const std::string& heading, int line, std::vector<std::string>& problems) {
    std::vector<Section> out;
    static const std::regex kName(R"((\[\[?)([A-Za-z0-9_.-]+)(\]\]?))");
    for (auto it = std::sregex_iterator(heading.begin(), heading.end(), kName); it != std::sregex_iterator(); ++it) {
        const std::string written = (*it)[0];
        const SectionDecl* s = find_section((*it)[2].str());
        if (!s) {
            problems.push_back("line " + std::to_string(line) + ": heading names " + written +
                               ", which the schema does not have");
        } else if (written != section_header(s->section)) {
            problems.push_back("line " + std::to_string(line) + ": heading writes " + written + ", want " +
                               section_header(s->section));
        } else {
            out.push_back(s->section);
        }
    }
    return out;
}

KeysPage parse_keys_page(const std::vector<std::string>& lines) {
    KeysPage page;
    bool in_keys = false, want_tag = false;
    int depth = 0;  // .RS nesting: a .TP inside belongs to the entry around it
    std::vector<Section> sections;
    std::optional<ManEntry> open;
    auto close = [&] {
        if (open) page.entries.push_back(std::move(*open));
        open.reset();
    };
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string& line = lines[i];
        const int number = static_cast<int>(i + 1);
        if (line.rfind(".\\\"", 0) == 0) continue;
        const std::string req = request_of(line);
        if (req == ".SH") {
            close();
            in_keys = roff_text(".B " + line.substr(3)) == "SECTIONS AND KEYS";
            sections.clear();
            continue;
        }
        if (!in_keys) continue;
        if (req == ".SS") {
            close();
            sections = heading_sections(unescape(line.substr(3)), number, page.problems);
            if (sections.empty())
                page.problems.push_back("line " + std::to_string(number) + ": heading " + line.substr(4) +
                                        " names no section such as [milter]");
            depth = 0;
            continue;
        }
        if (req == ".RS") ++depth;
        if (req == ".RE") depth = std::max(0, depth - 1);
        if (depth == 0 && req == ".TP") {
            close();
            want_tag = true;
            continue;
        }
        if (want_tag) {
            want_tag = false;
            std::vector<std::string> args = roff_args(line.size() > 3 ? line.substr(3) : "");
            static const std::regex kKey("[a-z][a-z0-9_]*");
            if (req == ".B" && args.size() == 1 && std::regex_match(args[0], kKey)) {
                open = ManEntry{sections, args[0], number, {}};
            } else {
                page.problems.push_back("line " + std::to_string(number) + ": an entry tagged '" + line +
                                        "'; a key's entry is tagged '.B key'");
            }
            continue;
        }
        if (depth == 0 && (req == ".PP" || req == ".P" || req == ".LP")) {
            close();
            continue;
        }
        if (open) {
            std::string text = roff_text(line);
            if (!text.empty()) open->body += (open->body.empty() ? "" : " ") + text;
        }
    }
    close();
    return page;
}

const KeysPage& keys_page() {
    static const KeysPage page = parse_keys_page(read_lines(source_dir() / kKeysPage));
    return page;
}

// The page's entry for (section, key), or null.
const ManEntry* man_entry(Section s, std::string_view key) {
    for (const ManEntry& e : keys_page().entries)
        if (e.key == key && std::find(e.sections.begin(), e.sections.end(), s) != e.sections.end()) return &e;
    return nullptr;
}

// --- the sample config ------------------------------------------------------
// Section headers and `key = value` lines count whether commented out or not;
// other comment lines are prose.

struct SampleKey {
    std::optional<Section> section;
    std::string section_written;
    std::string key;
    std::string value;  // TOML text, trailing comment removed
    int line = 0;
};

struct Sample {
    std::vector<SampleKey> keys;
    std::vector<std::string> problems;
};

// "x = 1  # note" -> "x = 1": the first # outside a string.
std::string without_comment(const std::string& s) {
    bool quoted = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && quoted) ++i;
        else if (s[i] == '"') quoted = !quoted;
        else if (s[i] == '#' && !quoted) return s.substr(0, i);
    }
    return s;
}

std::string trimmed(std::string s) {
    s.erase(0, s.find_first_not_of(" \t"));
    s.erase(s.find_last_not_of(" \t\r") + 1);
    return s;
}

const std::regex kSectionLine(R"(^#?\s*(\[\[?([A-Za-z0-9_.-]+)\]\]?)\s*(#.*)?$)");
const std::regex kKeyLine(R"(^#?\s*([A-Za-z0-9_-]+)\s*=\s*(.*)$)");

Sample parse_sample(const std::vector<std::string>& lines) {
    Sample out;
    std::optional<Section> section;
    std::string written;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const int number = static_cast<int>(i + 1);
        std::smatch m;
        if (std::regex_match(lines[i], m, kSectionLine)) {
            written = m[1];
            const SectionDecl* s = find_section(m[2].str());
            section = s && section_header(s->section) == written ? std::optional(s->section) : std::nullopt;
            if (!section)
                out.problems.push_back(std::string(kSample) + ":" + std::to_string(number) + ": section " + written +
                                       " is not in the schema");
        } else if (std::regex_match(lines[i], m, kKeyLine)) {
            if (written.empty())
                out.problems.push_back(std::string(kSample) + ":" + std::to_string(number) + ": key " + m[1].str() +
                                       " before any section");
            out.keys.push_back({section, written, m[1], trimmed(without_comment(m[2])), number});
        }
    }
    return out;
}

const Sample& sample() {
    static const Sample s = parse_sample(read_lines(source_dir() / kSample));
    return s;
}

// The sample with every commented section header and key line switched on.
std::string sample_uncommented() {
    std::string out;
    for (const std::string& line : read_lines(source_dir() / kSample)) {
        bool setting = std::regex_match(line, kSectionLine) || std::regex_match(line, kKeyLine);
        out += (setting && !line.empty() && line[0] == '#' ? trimmed(line.substr(1)) : line) + "\n";
    }
    return out;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const std::string& l : lines) out += "  " + l + "\n";
    return out;
}

std::vector<Section> sections_of(const KeyDecl& k) {
    std::vector<Section> out;
    for (const SectionDecl& s : schema_sections())
        if (k.in(s.section)) out.push_back(s.section);
    return out;
}

// --- tlspolicy-milter.toml(5) against the schema ----------------------------

TEST(DocsManPage, ListsKeys) {
    ASSERT_TRUE(fs::exists(source_dir() / kKeysPage)) << (source_dir() / kKeysPage);
    EXPECT_GE(keys_page().entries.size(), 10u) << "found too few key entries under SECTIONS AND KEYS in " << kKeysPage;
    EXPECT_TRUE(keys_page().problems.empty()) << kKeysPage << ":\n" << joined(keys_page().problems);
}

TEST(DocsManPage, DocumentsEverySchemaKey) {
    for (const KeyDecl& k : schema())
        for (Section s : sections_of(k))
            EXPECT_NE(man_entry(s, k.key), nullptr)
                << where(s, k.key) << " is in the schema but not in " << kKeysPage
                << ": add a '.TP' / '.B " << k.key << "' entry under a '.SS' heading naming " << section_header(s);
}

TEST(DocsManPage, NamesOnlySchemaKeys) {
    std::set<std::pair<Section, std::string>> seen;
    for (const ManEntry& e : keys_page().entries) {
        EXPECT_FALSE(e.sections.empty()) << kKeysPage << ":" << e.line << ": " << e.key << " under no section heading";
        for (Section s : e.sections) {
            EXPECT_NE(find_key(s, e.key), nullptr)
                << kKeysPage << ":" << e.line << ": documents " << where(s, e.key) << ", which the schema does not have";
            EXPECT_TRUE(seen.insert({s, e.key}).second)
                << kKeysPage << ":" << e.line << ": documents " << where(s, e.key) << " a second time";
        }
    }
}

// Each entry says what the schema says: type, bounds, default, allowed values
// and the example, so that the page cannot drift from the table.
TEST(DocsManPage, EntriesAgreeWithTheSchema) {
    for (const KeyDecl& k : schema()) {
        const ManEntry* e = man_entry(sections_of(k).front(), k.key);
        if (!e) continue;  // reported by DocumentsEverySchemaKey
        const std::string body = e->body;
        auto want = [&](const std::string& text, const char* what) {
            EXPECT_NE(lower(body).find(lower(text)), std::string::npos)
                << kKeysPage << ":" << e->line << ": the entry of " << k.key << " lacks " << what << "; want '"
                << text << "' in:\n  " << body;
        };
        want(std::string(type_description(k.type)), "its type");
        if (k.type == ValueType::Integer)
            want(std::to_string(k.min) + " to " + std::to_string(k.max), "its bounds");
        if (k.default_toml.empty()) want("no default", "that it has no default");
        else want("default " + std::string(k.default_toml), "its default");
        for (std::string_view choice : k.choices) want("\"" + std::string(choice) + "\"", "an allowed value");
        want("Example: " + std::string(k.key) + " = " + std::string(k.example_toml), "the schema's example");
    }
}

// The schema says which keys a reload leaves alone; each of their entries says
// so, and no other entry does.
TEST(DocsManPage, EntriesSayWhichKeysTakeEffectOnlyOnRestart) {
    constexpr std::string_view kRestartOnly = "Takes effect only on restart.";
    int restart_only = 0;
    for (const KeyDecl& k : schema()) {
        for (Section s : sections_of(k)) {
            const ManEntry* e = man_entry(s, k.key);
            if (!e) continue;  // reported by DocumentsEverySchemaKey
            const bool says = e->body.find(kRestartOnly) != std::string::npos;
            const bool want = k.reload == Reload::Restart;
            restart_only += want;
            EXPECT_EQ(says, want) << kKeysPage << ":" << e->line << ": the entry of " << where(s, k.key)
                                  << (want ? " lacks '" : " must not say '") << kRestartOnly << "': the schema has it "
                                  << (want ? "restart-only" : "applied on reload");
        }
    }
    EXPECT_GE(restart_only, 5) << "the schema marks too few keys restart-only";
}

// tlspolicy-milter(8), under SIGNALS, lists every restart-only key as the
// reload warning names them.
TEST(DocsManPage, DaemonPageListsTheRestartOnlyKeys) {
    std::string printed;
    for (const std::string& line : read_lines(source_dir() / kDaemonPage)) printed += roff_text(line) + " ";
    const std::string want = restart_only_keys();
    EXPECT_NE(printed.find(want), std::string::npos)
        << kDaemonPage << " does not list the restart-only keys; want the line\n.B " << want;
}

// Runs the command line in-process; its standard output.
std::string cli_output(std::vector<const char*> argv) {
    std::ostringstream out, err;
    const int rc = run_cli(static_cast<int>(argv.size()), argv.data(), out, err);
    EXPECT_EQ(rc, 0) << err.str();
    return out.str();
}

// The options of a CLI11 help text ("  -c,--config TEXT=..." -> -c, --config)
// and, after "Subcommands:", the subcommand names.
void parse_help(const std::string& help, std::set<std::string>& options, std::vector<std::string>& subcommands) {
    static const std::regex kOptionLine(R"(^\s+(-[^\s]+).*)");
    static const std::regex kSubcommandLine(R"(^\s+([a-z][a-z0-9-]*)\s.*)");
    std::istringstream in(help);
    bool in_subcommands = false;
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (line.rfind("Subcommands:", 0) == 0) in_subcommands = true;
        else if (!line.empty() && line[0] != ' ') in_subcommands = false;
        else if (in_subcommands && std::regex_match(line, m, kSubcommandLine)) subcommands.push_back(m[1]);
        else if (!in_subcommands && std::regex_match(line, m, kOptionLine)) {
            std::istringstream names(m[1].str());
            for (std::string name; std::getline(names, name, ',');) options.insert(name);
        }
    }
}

// Every option and subcommand `--help` lists is in the .8 page.
TEST(DocsManPage, DocumentsEveryCommandLineOption) {
    const std::string page = read_file(source_dir() / kDaemonPage);
    ASSERT_FALSE(page.empty()) << (source_dir() / kDaemonPage);
    std::set<std::string> options;
    std::vector<std::string> subcommands;
    parse_help(cli_output({"tlspolicy-milter", "--help"}), options, subcommands);
    EXPECT_FALSE(subcommands.empty()) << "--help listed no subcommand (explain)";
    for (const std::string& sub : subcommands) {
        EXPECT_NE(page.find(".SS " + sub), std::string::npos) << "subcommand " << sub << " has no '.SS " << sub
                                                               << "' in " << kDaemonPage;
        std::vector<std::string> nested;
        parse_help(cli_output({"tlspolicy-milter", sub.c_str(), "--help"}), options, nested);
    }
    EXPECT_GE(options.size(), 12u) << "--help listed too few options";
    for (const std::string& option : options) {
        std::string roff;
        for (char c : option) roff += c == '-' ? "\\-" : std::string(1, c);
        EXPECT_NE(page.find(roff), std::string::npos) << option << " is in --help but not in " << kDaemonPage
                                                      << " (written " << roff << ")";
    }
}

// What `groff -man -ww -z` and `mandoc -Tlint` print; skipped without them.
TEST(DocsManPage, RendersWithoutWarnings) {
    int ran = 0;
    for (const char* tool : {"groff -man -ww -z", "mandoc -Tlint"}) {
        const std::string name = std::string(tool).substr(0, std::string(tool).find(' '));
        if (std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) != 0) continue;
        for (const char* page : {kDaemonPage, kKeysPage}) {
            const std::string command = std::string(tool) + " '" + (source_dir() / page).string() + "' 2>&1";
            FILE* p = ::popen(command.c_str(), "r");
            ASSERT_NE(p, nullptr) << command;
            std::string output;
            char buf[512];
            while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) output.append(buf, n);
            const int status = ::pclose(p);
            EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0 && output.empty())
                << command << " exited " << status << ":\n" << output;
        }
        ++ran;
    }
    if (ran == 0) GTEST_SKIP() << "neither groff nor mandoc is installed";
}

// Every example block of either page that is TOML (it opens with a section
// header) is a policy file that loads without a diagnostic.
TEST(DocsManPage, TomlExamplesLoad) {
    int blocks = 0;
    for (const char* page : {kDaemonPage, kKeysPage}) {
        std::string block;
        int first = 0;
        bool in_example = false;
        const std::vector<std::string> lines = read_lines(source_dir() / page);
        for (std::size_t i = 0; i < lines.size(); ++i) {
            if (request_of(lines[i]) == ".EX") {
                in_example = true;
                block.clear();
                first = static_cast<int>(i + 2);
            } else if (request_of(lines[i]) == ".EE") {
                in_example = false;
                if (block.empty() || block[0] != '[') continue;
                ++blocks;
                const std::string name = std::string(page) + ":" + std::to_string(first);
                LoadResult r = load_config_text(block, name);
                std::vector<std::string> got;
                for (const Diagnostic& d : r.diagnostics) got.push_back(d.format());
                EXPECT_TRUE(r.ok() && got.empty()) << "the example at " << name << " gives:\n"
                                                   << joined(got) << "in:\n" << block;
            } else if (in_example) {
                block += unescape(lines[i]) + "\n";
            }
        }
    }
    EXPECT_GE(blocks, 4) << "found too few TOML examples in the man pages";
}

// --- conf/tlspolicy-milter.toml against the schema --------------------------

TEST(DocsSampleConfig, IsReadable) {
    EXPECT_GE(sample().keys.size(), 10u) << "found too few key lines in " << (source_dir() / kSample);
    EXPECT_TRUE(sample().problems.empty()) << joined(sample().problems);
}

// A key of one section must appear in it; a requirement shared by [defaults],
// [[partner]] and [[recipient]] in at least one of them.
TEST(DocsSampleConfig, HasEverySchemaKey) {
    for (const KeyDecl& k : schema()) {
        bool found = false;
        for (const SampleKey& s : sample().keys)
            if (s.section && k.in(*s.section) && s.key == k.key) found = true;
        std::string sections;
        for (Section s : sections_of(k)) sections += (sections.empty() ? "" : " or ") + section_header(s);
        EXPECT_TRUE(found) << k.key << " is in the schema but not in " << kSample << ": want a '# " << k.key
                           << " = ...' line under " << sections;
    }
}

TEST(DocsSampleConfig, NamesOnlySchemaKeys) {
    for (const SampleKey& s : sample().keys) {
        if (!s.section) continue;  // reported by IsReadable
        EXPECT_NE(find_key(*s.section, s.key), nullptr)
            << kSample << ":" << s.line << ": " << where(*s.section, s.key) << " is not in the schema";
    }
}

// In the settings sections and [defaults], a key with a default shows it.
TEST(DocsSampleConfig, ShowsEachSettingAtItsDefault) {
    for (const SampleKey& s : sample().keys) {
        if (!s.section || section_decl(*s.section).array) continue;
        const KeyDecl* k = find_key(*s.section, s.key);
        if (!k || k->default_toml.empty()) continue;
        EXPECT_EQ(s.value, k->default_toml) << kSample << ":" << s.line << ": " << where(*s.section, s.key)
                                            << " shows got " << s.value << ", want the default " << k->default_toml;
    }
}

// Switching every commented line on gives a valid file: the examples in the
// comments are right, not only present.
TEST(DocsSampleConfig, LoadsWithEveryLineUncommented) {
    const std::string text = sample_uncommented();
    LoadResult r = load_config_text(text, std::string(kSample) + " (uncommented)");
    std::vector<std::string> got;
    for (const Diagnostic& d : r.diagnostics) got.push_back(d.format());
    EXPECT_TRUE(r.ok() && got.empty()) << "want no diagnostics, got:\n" << joined(got) << "in:\n" << text;
}

// --- every policy shipped in conf/ ------------------------------------------

std::vector<fs::path> shipped_policies() {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const char* dir : {"conf", "conf/examples"})
        for (const auto& e : fs::directory_iterator(source_dir() / dir, ec))
            if (e.is_regular_file() && e.path().extension() == ".toml") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
}

TEST(DocsShippedPolicies, LoadWithoutErrorsOrWarnings) {
    const std::vector<fs::path> files = shipped_policies();
    EXPECT_GE(files.size(), 5u) << "looked in " << (source_dir() / "conf");
    for (const fs::path& f : files) {
        LoadResult r = load_config_file(f.string());
        std::vector<std::string> got;
        for (const Diagnostic& d : r.diagnostics) got.push_back(d.format());
        EXPECT_TRUE(r.ok()) << f << " does not load:\n" << joined(got);
        EXPECT_TRUE(got.empty()) << f << " loads with diagnostics:\n" << joined(got);
    }
}

TEST(DocsShippedPolicies, TheThreeExamplesAreThere) {
    for (const char* name : {"partner-tls12.toml", "legacy-partner.toml", "protected-recipients.toml"})
        EXPECT_TRUE(fs::exists(source_dir() / "conf/examples" / name)) << "conf/examples/" << name << " is missing";
}

// --- Sendmail: the man page shows the filter line the e2e tests run ---------

// contrib/sendmail.mc's INPUT_MAIL_FILTER(...) line without its "dnl", and
// the same line as the SENDMAIL section of tlspolicy-milter(8) shows it (roff
// escapes undone, its continuation lines joined), whitespace collapsed.
std::string collapse(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            if (!out.empty() && out.back() != ' ') out += ' ';
        } else {
            out += c;
        }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

std::string contrib_filter_line() {
    for (const std::string& l : read_lines(source_dir() / "contrib/sendmail.mc"))
        if (l.rfind("INPUT_MAIL_FILTER(", 0) == 0) return collapse(l.substr(0, l.rfind(")dnl") + 1));
    return "";
}

std::string man_sendmail_filter_line() {
    bool in_section = false, in_example = false;
    std::string text;
    for (const std::string& l : read_lines(source_dir() / kDaemonPage)) {
        if (l.rfind(".SH ", 0) == 0) in_section = l == ".SH SENDMAIL";
        if (!in_section) continue;
        if (l == ".EX") in_example = true;
        else if (l == ".EE" && in_example) break;
        else if (in_example) text += l + "\n";
    }
    for (auto [from, to] : {std::pair<std::string, std::string>{"\\(ga", "`"}, {"\\(aq", "'"}, {"\\-", "-"}, {"\\e", "\\"}})
        for (std::size_t at; (at = text.find(from)) != std::string::npos;) text.replace(at, from.size(), to);
    return collapse(text);
}

// The macros the milter asks for, as operators read them: each one the code
// asks for is named in the man page's POSTFIX section and in
// contrib/postfix-main.cf (both once drifted from the code).
TEST(DocsMacros, ManPageAndPostfixSampleNameEveryMacroTheMilterAsksFor) {
    const std::string page = read_file(source_dir() / kDaemonPage);
    const std::string cf = read_file(source_dir() / "contrib/postfix-main.cf");
    std::istringstream words{std::string(session_macros())};
    int n = 0;
    for (std::string macro; words >> macro; ++n) {
        const std::string roff = "\\%" + macro;  // how the page escapes a word it must not hyphenate
        EXPECT_TRUE(page.find(".BR " + macro) != std::string::npos || page.find(".BR \\%" + macro) != std::string::npos ||
                    page.find(roff) != std::string::npos)
            << kDaemonPage << " does not name " << macro;
        EXPECT_NE(cf.find(macro), std::string::npos) << "contrib/postfix-main.cf does not name " << macro;
    }
    EXPECT_GE(n, 12);
}

TEST(DocsSendmail, ManPageShowsTheFilterLineOfContribSendmailMc) {
    std::string contrib = contrib_filter_line();
    ASSERT_FALSE(contrib.empty()) << "contrib/sendmail.mc has no line starting INPUT_MAIL_FILTER(";
    EXPECT_NE(contrib.find(", F=T,"), std::string::npos) << "F=T (tempfail while the milter is down) is what we recommend: "
                                                         << contrib;
    EXPECT_NE(contrib.find(", T=C:"), std::string::npos) << "the recommended timeouts (T=C:...) are missing: " << contrib;
    EXPECT_EQ(man_sendmail_filter_line(), contrib)
        << kDaemonPage << " (.SH SENDMAIL, the .EX block) and contrib/sendmail.mc disagree";
}

}  // namespace
}  // namespace tlspolicy
