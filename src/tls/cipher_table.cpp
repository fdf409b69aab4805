// The cipher table (src/tls is the one room that talks to OpenSSL): every cipher the local OpenSSL
// knows (built once, looked up by OpenSSL or IANA name), and the expansion of an
// operator's `ciphers` / `ciphersuites` into the exact names they allow.
#include "tls/cipher_table.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <memory>
#include <stdexcept>

#include "core/text.hpp"

namespace tlspolicy::cipher_table {
namespace {

// Every TLS 1.3 suite OpenSSL 3.0 implements. Its default list leaves out the
// two CCM suites, which BSI TR-02102-2 recommends, so they are named here.
constexpr const char* kAllTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
    "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256";

// Everything, NULL and anonymous ciphers included. SSL_CTX_get_ciphers() is not
// filtered by the security level in OpenSSL 3.0 (only handshakes are), so
// @SECLEVEL=0 is belt and braces, not load-bearing.
constexpr const char* kAllTls12Ciphers = "ALL:COMPLEMENTOFALL:@SECLEVEL=0";

struct CtxFree {
    void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using Ctx = std::unique_ptr<SSL_CTX, CtxFree>;

Ctx new_ctx() {
    Ctx ctx(SSL_CTX_new(TLS_method()));
    if (!ctx) throw std::runtime_error("OpenSSL cannot create an SSL_CTX (out of memory?)");
    return ctx;
}

bool is_tls13(const SSL_CIPHER* c) { return SSL_CIPHER_get_kx_nid(c) == NID_kx_any; }

CipherInfo facts(const SSL_CIPHER* c) {
    CipherInfo info;
    info.known = true;
    info.bits = SSL_CIPHER_get_bits(c, &info.alg_bits);  // Postfix's {cipher_bits} is this return value
    info.aead = SSL_CIPHER_is_aead(c) == 1;
    const int kx = SSL_CIPHER_get_kx_nid(c);
    // Ephemeral (EC)DH, also with PSK; TLS 1.3 (kx "any") is always ephemeral.
    info.forward_secrecy = kx == NID_kx_ecdhe || kx == NID_kx_dhe || kx == NID_kx_ecdhe_psk ||
                           kx == NID_kx_dhe_psk || kx == NID_kx_any;
    info.tls13 = kx == NID_kx_any;
    return info;
}

struct Entry {
    CipherInfo info;
    std::string openssl_name;  // what the MTA reports and cipher strings use
};

StringMap<Entry> build_table() {
    Ctx ctx = new_ctx();
    // A failure keeps what was accepted: a stripped-down build simply knows less.
    SSL_CTX_set_cipher_list(ctx.get(), kAllTls12Ciphers);
    SSL_CTX_set_ciphersuites(ctx.get(), kAllTls13Suites);
    ERR_clear_error();
    StringMap<Entry> table;
    STACK_OF(SSL_CIPHER)* all = SSL_CTX_get_ciphers(ctx.get());
    for (int i = 0; i < sk_SSL_CIPHER_num(all); ++i) {
        const SSL_CIPHER* c = sk_SSL_CIPHER_value(all, i);
        Entry e{facts(c), SSL_CIPHER_get_name(c)};
        if (const char* iana = SSL_CIPHER_standard_name(c)) table.emplace(iana, e);
        table.emplace(e.openssl_name, e);
    }
    return table;
}

const StringMap<Entry>& table() {
    static const StringMap<Entry> t = build_table();  // thread-safe, built on first use
    return t;
}

const Entry* find_exact(std::string_view name) {
    const auto& t = table();
    auto it = t.find(name);
    return it == t.end() ? nullptr : &it->second;
}

// Names are upper case; a lower-case spelling is found without a second table.
const Entry* find_any_case(std::string_view name) {
    if (const Entry* e = find_exact(name)) return e;
    char upper[80];
    if (name.size() > sizeof upper) return nullptr;
    bool changed = false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        upper[i] = (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c;
        changed |= upper[i] != c;
    }
    return changed ? find_exact(std::string_view(upper, name.size())) : nullptr;
}

// "OpenSSL 3.0.19", for error messages.
std::string short_version() {
    std::string v = OpenSSL_version(OPENSSL_VERSION);
    auto sp = v.find(' ', v.find(' ') + 1);
    return sp == std::string::npos ? v : v.substr(0, sp);
}

// OpenSSL's own separators for cipher strings (ITEM_SEP in ssl_ciph.c).
std::vector<std::string_view> split(std::string_view s, std::string_view seps) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (start <= s.size()) {
        std::size_t end = s.find_first_of(seps, start);
        if (end == std::string_view::npos) end = s.size();
        if (end > start) out.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

bool has_control_char(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return true;
    return false;
}

// Sets `spec` on `ctx` and reports what happened; the OpenSSL error queue is
// left empty either way.
enum class Parse { Selects, SelectsNothing, BadSyntax };
Parse try_cipher_list(SSL_CTX* ctx, const std::string& spec) {
    const int ok = SSL_CTX_set_cipher_list(ctx, spec.c_str());
    const int reason = ERR_GET_REASON(ERR_peek_last_error());
    ERR_clear_error();
    if (ok == 1) return Parse::Selects;  // 3.0 fails when no TLS <= 1.2 cipher is left
    return reason == SSL_R_INVALID_COMMAND ? Parse::BadSyntax : Parse::SelectsNothing;
}

// A token that names one cipher rather than a class: kept even when the local
// OpenSSL does not know it, so the MTA's own name for it still matches.
bool looks_like_literal(std::string_view t) {
    return t.find_first_of("-_") != std::string_view::npos && t.find_first_of("+=") == std::string_view::npos;
}

void add_unknown(CipherList& list, std::string_view name) {
    if (list.names.emplace(name).second) list.unknown.emplace_back(name);
}

// Why a positive token that selects nothing on its own is wrong, or "" to keep
// it as a literal name the local OpenSSL does not know.
std::string why_token_fails(std::string_view token) {
    if (const Entry* e = find_exact(token)) {
        if (e->info.tls13) return quoted(token) + " is a TLS 1.3 suite; it belongs in `ciphersuites`, not `ciphers`";
        return quoted(token) + " is an IANA name; OpenSSL cipher strings call it " + quoted(e->openssl_name);
    }
    if (const Entry* e = find_any_case(token))
        return quoted(token) + " selects no cipher; cipher names are case-sensitive, write " + quoted(e->openssl_name);
    if (looks_like_literal(token)) return {};
    return quoted(token) + " selects no cipher known to " + short_version();
}

}  // namespace

CipherInfo lookup(std::string_view name) {
    const Entry* e = find_any_case(name);
    return e ? e->info : CipherInfo{};
}

Expansion expand_ciphers(std::string_view spec) {
    Expansion out;
    auto list = std::make_shared<CipherList>();
    list->spec = std::string(spec);
    if (has_control_char(spec)) {
        out.errors.push_back("the cipher string contains a control character");
        return out;
    }
    const auto tokens = split(spec, ": ,;");
    if (tokens.empty()) {
        out.errors.push_back("the cipher string is empty; name at least one OpenSSL cipher or class");
        return out;
    }

    // OpenSSL silently skips words it does not know, so each is tried alone first.
    Ctx probe = new_ctx();
    for (std::string_view token : tokens) {
        const Parse p = try_cipher_list(probe.get(), std::string(token));
        if (p == Parse::BadSyntax) {
            out.errors.push_back(quoted(token) + " is not valid in an OpenSSL cipher string");
            continue;
        }
        const bool positive = std::string_view("!-+@").find(token.front()) == std::string_view::npos;
        if (!positive || p == Parse::Selects) continue;  // "!RC4" removing nothing is fine
        std::string why = why_token_fails(token);
        if (why.empty())
            add_unknown(*list, token);
        else
            out.errors.push_back(std::move(why));
    }
    if (!out.errors.empty()) return out;

    Ctx ctx = new_ctx();
    const Parse whole = try_cipher_list(ctx.get(), list->spec);
    if (whole == Parse::BadSyntax) {  // not expected once every token parsed alone
        out.errors.push_back("OpenSSL rejects the cipher string " + quoted(spec));
        return out;
    }
    if (whole == Parse::Selects) {
        STACK_OF(SSL_CIPHER)* sk = SSL_CTX_get_ciphers(ctx.get());
        for (int i = 0; i < sk_SSL_CIPHER_num(sk); ++i) {
            const SSL_CIPHER* c = sk_SSL_CIPHER_value(sk, i);
            if (!is_tls13(c)) list->names.emplace(SSL_CIPHER_get_name(c));
        }
    } else if (list->unknown.empty()) {
        out.errors.push_back("the cipher string " + quoted(spec) + " selects no cipher known to " + short_version());
        return out;
    }
    out.list = std::move(list);
    return out;
}

Expansion expand_ciphersuites(std::string_view spec) {
    Expansion out;
    auto list = std::make_shared<CipherList>();
    list->spec = std::string(spec);
    if (has_control_char(spec)) {
        out.errors.push_back("`ciphersuites` contains a control character");
        return out;
    }
    // SSL_CTX_set_ciphersuites() separates with ':' only and trims blanks.
    std::vector<std::string_view> tokens;
    for (std::string_view t : split(spec, ":")) {
        while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
        while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
        if (!t.empty()) tokens.push_back(t);
    }
    if (tokens.empty()) {
        out.errors.push_back("`ciphersuites` is empty; name at least one TLS 1.3 suite such as 'TLS_AES_256_GCM_SHA384'");
        return out;
    }
    for (std::string_view token : tokens) {
        const Entry* e = find_exact(token);
        if (e && e->info.tls13) {
            list->names.emplace(e->openssl_name);
        } else if (e) {
            const std::string alias = token == e->openssl_name ? "" : " (OpenSSL name " + quoted(e->openssl_name) + ")";
            out.errors.push_back(quoted(token) + " is a TLS 1.2 cipher" + alias + "; it belongs in `ciphers`, not `ciphersuites`");
        } else if (const Entry* any = find_any_case(token)) {
            out.errors.push_back(quoted(token) + " is not a suite name; names are case-sensitive, write " +
                                 quoted(any->openssl_name));
        } else if (token.starts_with("TLS_") &&
                   token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == std::string_view::npos) {
            add_unknown(*list, token);  // a suite newer than the local OpenSSL
        } else {
            out.errors.push_back(quoted(token) + " is not a TLS 1.3 suite name (those look like 'TLS_AES_256_GCM_SHA384'); "
                                 "OpenSSL cipher strings belong in `ciphers`");
        }
    }
    if (out.errors.empty()) out.list = std::move(list);
    return out;
}

std::string openssl_version() { return OpenSSL_version(OPENSSL_VERSION); }

}  // namespace tlspolicy::cipher_table
