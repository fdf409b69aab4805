// Fuzz target: envelope address canonicalisation and the spellings a
// protected address is matched in (normalize_address, address_forms and
// recipient matching in src/core). Input: a delimiter byte, then an address
// as a client writes it in RCPT TO.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.hpp"
#include "core/verdict.hpp"
#include "fuzz_support.hpp"

using namespace tlspolicy;
using tlspolicy::fuzz::require;

namespace {

bool simple_local(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::string delimiters = data[0] & 1 ? "+" : data[0] & 2 ? "+-" : "";
    std::string_view raw(reinterpret_cast<const char*>(data + 1), size - 1);

    const std::string a = normalize_address(raw);
    require(a.size() <= raw.size(), "normalizing made the address longer", a);
    for (char c : a) require(!(c >= 'A' && c <= 'Z'), "a normalized address has upper case", a);
    std::vector<std::string> forms;
    address_forms(a, delimiters, forms);
    require(!forms.empty() && forms[0] == a, "the address is not its own first form", a);
    require(forms.size() <= 2 * a.size() + 2, "more forms than the address has characters", a);
    for (const std::string& f : forms) require(f.size() <= a.size() + 1, "a form is longer than the address", f);

    // A mailbox protected by a rule is matched in the quoted, extended,
    // percent-hacked and routed spellings of the same address.
    const auto at = a.rfind('@');
    if (at == std::string::npos) return 0;
    const std::string local = a.substr(0, at), domain = a.substr(at + 1);
    const auto domain_entry = parse_entry(domain, false, nullptr);
    const auto entry = parse_entry(a, true, nullptr);
    if (!simple_local(local) || !domain_entry || domain_entry->kind != EntryKind::Domain || !entry) return 0;
    Policy p;
    p.recipient_delimiter = delimiters;
    Rule r;
    r.name = "protected";
    r.kind = RuleKind::Recipient;
    r.recipients.push_back(*entry);
    p.recipients.push_back(std::move(r));
    p.build_indexes();
    std::vector<std::string> spellings = {
        "<" + a + ">", "<\"" + local + "\"@" + domain + ">", "<" + local + "(c)@" + domain + ".>",
        "<@relay.example:" + local + "@" + domain + ">", "<" + local + "%" + domain + "@relay.example>",
        "<" + domain + "!" + local + "@relay.example>", "<\"" + a + "\"@relay.example>", "<" + local + ">"};
    if (!delimiters.empty()) spellings.push_back("<" + local + delimiters.substr(0, 1) + "ext@" + domain + ">");
    for (const std::string& s : spellings)
        require(decide_recipient(p, SessionFacts{}, normalize_address(s)).rules.size() == 1,
                "a spelling of the protected address was not matched", s);
    // Another mailbox is not.
    for (const std::string& s : {local + "2@" + domain, "x" + a, local + "@sub." + domain})
        require(decide_recipient(p, SessionFacts{}, normalize_address(s)).rules.empty(),
                "another mailbox matched the protected address", s);
    return 0;
}
