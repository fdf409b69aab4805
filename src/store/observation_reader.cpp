// SELECT side of the observation store.
#include "store/observation_reader.hpp"

#include "store/observation_schema.hpp"

namespace tlspolicy {

std::string for_each_observation(const std::string& path, std::int64_t since, std::int64_t until,
                                 const std::function<void(const Observation&)>& each) {
    std::string error;
    bool empty = false;
    int version = 0;
    sqlite::Db db = store::open_for_reading(path, &empty, &version, &error);
    if (!db || empty) return error;
    // Schema 1 has no certificate columns: its rows read as "no certificate".
    const std::string cert = version >= 2 ? "cert_status, cert_subject, cert_issuer" : "'none', '', ''";
    sqlite::Stmt s(db.get(),
                   "SELECT time, stage, queue_id, client, hostname, sender, recipient, rules, tls_version, cipher,"
                   " cipher_bits, alg_bits, result, action, would, " + cert + " FROM observations"
                   " WHERE time BETWEEN ?1 AND ?2 ORDER BY time, id");
    if (!s.ok()) return path + ": " + sqlite::last_error(db.get());
    s.bind(1, since);
    s.bind(2, until);
    int rc;
    Observation o;
    while ((rc = s.step()) == SQLITE_ROW) {
        o.time = s.integer(0);
        o.stage = store::parse_stage(s.text(1));
        o.queue_id = s.text(2);
        o.client = s.text(3);
        o.hostname = s.text(4);
        o.sender = s.text(5);
        o.recipient = s.text(6);
        o.rules = store::parse_rules(s.text(7));
        o.rule_kinds_known = false;  // schema 2 keeps names only
        o.version = store::parse_version(s.text(8));
        o.cipher = s.text(9);
        o.cipher_bits = static_cast<int>(s.integer(10));
        o.alg_bits = static_cast<int>(s.integer(11));
        o.result = store::parse_result(s.text(12));
        o.action = store::parse_decision(s.text(13));
        o.would = store::parse_decision(s.text(14));
        o.cert.status = store::parse_cert_status(s.text(15));
        o.cert.subject_cn = s.text(16);
        o.cert.issuer_cn = s.text(17);
        each(o);
    }
    if (rc != SQLITE_DONE) return path + ": reading observations failed: " + sqlite::last_error(db.get());
    return "";
}

ObservationRows read_observations(const std::string& path, std::int64_t since, std::int64_t until) {
    ObservationRows out;
    out.error = for_each_observation(path, since, until, [&](const Observation& o) { out.rows.push_back(o); });
    return out;
}

}  // namespace tlspolicy
