// What a key's apply function (config/schema.cpp) may write to while the
// loader builds a Config: the settings, the policy, the rule being read, and
// the loader's diagnostics. Only the config loading files include this.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "config/schema.hpp"
#include "config/toml_document.hpp"
#include "core/policy.hpp"

namespace tlspolicy {

// A rule while its section is read, with what the checks across its keys need.
struct RuleBuild {
    Rule rule;
    std::uint64_t present = 0;       // bit per schema key (key_index)
    bool selectors_written = false;  // some selector array has entries
    bool named = false;              // the name is valid
    toml_doc::Pos name_pos;
    std::optional<toml_doc::Pos> client_cert_off;  // where require_client_cert = false is written
    const KeyDecl* client_cert_key = nullptr;      // that key
    std::optional<toml_doc::Pos> cert_names;       // where a CertName key is written
    std::size_t errors_before = 0;   // diagnostics when the rule began
};

class KeyTarget {
public:
    virtual Config& config() = 0;
    virtual Policy& policy() = 0;
    virtual RuleBuild& rule() = 0;  // only while a [defaults], [[partner]] or [[recipient]] is read
    virtual void error(toml_doc::Pos p, std::string message) = 0;
    // "unknown KEY 'x': did you mean 'y'? (use a, b or c)"
    virtual void bad_choice(const KeyDecl& k, const toml_doc::Node& v, std::span<const std::string_view> valid) = 0;
    // An OpenSSL cipher string (or TLS 1.3 suites) expanded once per distinct text.
    virtual CipherListPtr expand(const KeyDecl& k, const toml_doc::Node& v, bool suites) = 0;

protected:
    ~KeyTarget() = default;
};

}  // namespace tlspolicy
