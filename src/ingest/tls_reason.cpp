// TLS reasons of deferrals and bounces (see tls_reason.hpp).
#include "ingest/tls_reason.hpp"

namespace tlspolicy::ingest {

bool postfix_tls_reason(std::string_view reason) {
    for (std::string_view r : kPostfixTlsReasons)
        if (reason.starts_with(r)) return true;
    // Postfix's own "lost connection with ... while ..." and "conversation
    // with ... timed out while ...", not a server's reply.
    if (reason.starts_with("host ")) return false;
    return reason.ends_with(kPostfixStarttlsStage);
}

bool sendmail_tls_reason(std::string_view stat) {
    // "Deferred: 403 4.7.0 TLS handshake failed." or, bounced, "554 5.7.0 ...":
    // the phrase follows an X.7.X status code.
    for (std::size_t at = stat.find(".7."); at != std::string_view::npos; at = stat.find(".7.", at + 1)) {
        std::size_t i = at + 3;
        while (i < stat.size() && stat[i] >= '0' && stat[i] <= '9') ++i;
        if (i >= stat.size() || stat[i] != ' ') continue;
        const std::string_view text = stat.substr(i + 1);
        for (std::string_view r : kSendmailTlsReasons)
            if (text.starts_with(r)) return true;
    }
    return false;
}

}  // namespace tlspolicy::ingest
