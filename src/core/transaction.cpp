// One transaction's decisions in protocol order (see transaction.hpp).
#include "core/transaction.hpp"

namespace tlspolicy {

std::string_view choose_authserv_id(std::string_view configured, std::string_view mta_name) {
    if (!configured.empty()) return configured;
    if (!mta_name.empty()) return mta_name;
    return "localhost";
}

const Verdict& Transaction::begin(const Policy& policy, SessionFacts session, std::string sender) {
    policy_ = &policy;
    session_ = std::move(session);
    sender_ = std::move(sender);
    sender_verdict_ = decide_sender(policy, session_, sender_);
    return sender_verdict_;
}

const Verdict& Transaction::add_recipient(std::string_view recipient) {
    Verdict v = decide_recipient(*policy_, session_, recipient);
    if (v.decision != Decision::Accept) return last_ = std::move(v);
    ++accepted_;
    // A recipient no rule applied to adds nothing to the outcome: not kept.
    if (v.rules.empty()) return last_ = std::move(v);
    recipients_.push_back(std::move(v));
    return recipients_.back();
}

Transaction::Stamp Transaction::finish(std::string_view authserv_id) const {
    Stamp s{summarize(sender_verdict_, recipients_), {}};
    s.header = header_value(authserv_id, session_.tls, s.outcome);
    return s;
}

}  // namespace tlspolicy
