// The Loader: turns the sections either TOML reader delivers into a Config,
// collecting every problem with its FILE:LINE:COLUMN. Shared by the loading
// files only: config_loader.cpp (sections, settings, values, the result) and
// rule_sections.cpp ([defaults], [[partner]], [[recipient]]).
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/key_target.hpp"
#include "config/schema.hpp"
#include "config/toml_document.hpp"
#include "core/policy.hpp"
#include "core/text.hpp"
#include "tls/cipher_table.hpp"

namespace tlspolicy::loading {

using toml_doc::Field;
using toml_doc::Node;
using toml_doc::Pos;
using toml_doc::SectionView;

class Loader final : public toml_doc::Sink, public KeyTarget {
public:
    explicit Loader(const std::string& path);

    // Room for the rules a text is about to deliver, so 100,000 of them are not
    // moved around while the vectors grow.
    void reserve_for(std::string_view text);

    void root_field(const Field& f) override;
    void section(const SectionView& s) override;
    LoadResult finish();

    // KeyTarget, for the schema's apply functions.
    Config& config() override { return config_; }
    Policy& policy() override { return *policy_; }
    RuleBuild& rule() override { return *rule_; }
    void error(Pos p, std::string message) override {
        diagnostics_.push_back({path_, p.line, p.column, std::move(message), false});
    }
    void bad_choice(const KeyDecl& k, const Node& v, std::span<const std::string_view> valid) override;
    CipherListPtr expand(const KeyDecl& k, const Node& v, bool suites) override;

private:
    struct CacheEntry {
        cipher_table::Expansion expansion;
        Pos first;                    // where the string is first used, for its warnings
        const KeyDecl* key = nullptr;  // the key it is first used with
    };
    using CipherCache = StringMap<CacheEntry>;

    void warning(Pos p, std::string message) {
        diagnostics_.push_back({path_, p.line, p.column, std::move(message), true});
    }

    // config_loader.cpp
    std::string belongs_in(std::string_view key) const;
    const KeyDecl* lookup(Section section, const Field& f);
    bool check_value(const KeyDecl& k, const Node& v);
    void settings_section(Section section, const SectionView& s);
    void apply_setting_defaults();
    void warn_unknown_ciphers();

    // rule_sections.cpp
    void rule_section(Section section, const SectionView& s);
    void finish_rule(Section section, RuleBuild& b, Pos where);
    void report_duplicate_names();

    std::string path_;
    std::vector<Diagnostic> diagnostics_;
    Config config_;
    std::shared_ptr<Policy> policy_;
    RuleBuild* rule_ = nullptr;  // the rule being read
    std::array<std::uint64_t, 7> settings_present_{};  // per section; bit per schema key
    std::array<bool, 7> section_seen_{};
    StringSet unknown_sections_;
    // Where each rule's name is written, parallel to policy_->partners and
    // ->recipients; line 0 when the rule has no valid name.
    std::vector<Pos> partner_name_pos_, recipient_name_pos_;
    CipherCache ciphers_, suites_;
};

// The schema's default of a key as a value, parsed once; null when it has none.
const Node* default_value(const KeyDecl& k);

}  // namespace tlspolicy::loading
