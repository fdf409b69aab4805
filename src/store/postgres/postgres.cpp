// libpq, asynchronously: every wait is a poll() with a deadline.
#include "store/postgres/postgres.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>

#include <charconv>

namespace tlspolicy::pg {

void ClearResult::operator()(pg_result* r) const noexcept { PQclear(r); }

int Result::rows() const { return r_ ? PQntuples(r_.get()) : 0; }

std::string Result::text(int row, int column) const {
    if (!r_ || PQgetisnull(r_.get(), row, column)) return "";
    return std::string(PQgetvalue(r_.get(), row, column), static_cast<std::size_t>(PQgetlength(r_.get(), row, column)));
}

std::int64_t Result::integer(int row, int column) const {
    std::int64_t v = 0;
    if (!r_ || PQgetisnull(r_.get(), row, column)) return 0;
    const char* p = PQgetvalue(r_.get(), row, column);
    std::from_chars(p, p + PQgetlength(r_.get(), row, column), v);
    return v;
}

bool Result::null(int row, int column) const { return !r_ || PQgetisnull(r_.get(), row, column); }

store::Cell Result::cell(int row, int column) const {
    if (null(row, column)) return {0, {}, true};
    const char* p = PQgetvalue(r_.get(), row, column);
    const std::size_t n = static_cast<std::size_t>(PQgetlength(r_.get(), row, column));
    std::int64_t v = 0;
    std::from_chars(p, p + n, v);  // a text column's value stays 0
    return {v, {p, n}, false};
}

Conn::Conn(std::string url, std::chrono::milliseconds timeout) : url_(std::move(url)), timeout_(timeout) {}

Conn::~Conn() { close(); }

void Conn::close() {
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
}

bool Conn::connected() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

bool Conn::connect(std::string* error) {
    close();
    // connect_timeout counts whole seconds, at least 2 (libpq); keepalives
    // notice a server that vanished while a connection idles.
    const std::string secs = std::to_string(std::max<long long>(2, (timeout_.count() + 999) / 1000));
    const char* keys[] = {"dbname", "connect_timeout", "application_name", "keepalives", "keepalives_idle", nullptr};
    const char* values[] = {url_.c_str(), secs.c_str(), "tlspolicy-milter", "1", "30", nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    if (connected()) {
        PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);  // "does not exist, skipping" is no news
        return true;
    }
    *error = conn_ ? PQerrorMessage(conn_) : "out of memory";
    while (!error->empty() && (error->back() == '\n' || error->back() == ' ')) error->pop_back();
    close();
    return false;
}

bool Conn::lost(std::string* error, const std::string& what) {
    *error = what;
    while (!error->empty() && error->back() == '\n') error->pop_back();
    close();  // the next use connects again; a half-read answer is of no use
    return false;
}

bool Conn::send(const std::string& sql, const std::vector<std::string>& params, bool single_row, std::string* error) {
    if (!connected()) return lost(error, "not connected");
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const std::string& p : params) values.push_back(p.c_str());
    // Without parameters, the simple protocol: it takes several statements (a migration).
    if (!(params.empty() ? PQsendQuery(conn_, sql.c_str())
                         : PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                                             values.data(), nullptr, nullptr, 0)))
        return lost(error, PQerrorMessage(conn_));
    if (single_row) PQsetSingleRowMode(conn_);
    return true;
}

// The next result of the query in flight, nullptr when it has no more (or
// on a timeout or broken connection: then *error is set and the connection closed).
pg_result* Conn::next(std::chrono::steady_clock::time_point deadline, std::string* error) {
    for (;;) {
        int flushed = PQflush(conn_);  // big parameter lists may not fit the socket buffer at once
        if (flushed < 0) return lost(error, PQerrorMessage(conn_)), nullptr;
        if (flushed == 0 && !PQisBusy(conn_)) return PQgetResult(conn_);
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return lost(error, "no answer within " + std::to_string(timeout_.count()) + " ms; connection closed"), nullptr;
        pollfd p{PQsocket(conn_), static_cast<short>(POLLIN | (flushed ? POLLOUT : 0)), 0};
        if (poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR)
            return lost(error, "poll failed"), nullptr;
        if ((p.revents & (POLLIN | POLLERR | POLLHUP)) && !PQconsumeInput(conn_))
            return lost(error, PQerrorMessage(conn_)), nullptr;
    }
}

bool Conn::exec(const std::string& sql, const std::vector<std::string>& params, Result* out, std::string* error) {
    return send(sql, params, false, error) && finish(out, error);
}

bool Conn::prepare(const std::string& name, const std::string& sql, std::string* error) {
    if (!connected()) return lost(error, "not connected");
    if (!PQsendPrepare(conn_, name.c_str(), sql.c_str(), 0, nullptr)) return lost(error, PQerrorMessage(conn_));
    return finish(nullptr, error);
}

bool Conn::exec_prepared(const std::string& name, const std::vector<std::string>& params, Result* out,
                         std::string* error) {
    if (!connected()) return lost(error, "not connected");
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const std::string& p : params) values.push_back(p.c_str());
    if (!PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(params.size()), values.data(), nullptr, nullptr, 0))
        return lost(error, PQerrorMessage(conn_));
    return finish(out, error);
}

bool Conn::finish(Result* out, std::string* error) {
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    bool ok = true;
    error->clear();
    while (pg_result* raw = next(deadline, error)) {
        Result r(raw);
        const ExecStatusType st = PQresultStatus(raw);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            ok = false;
            *error = PQresultErrorMessage(raw);
            while (!error->empty() && error->back() == '\n') error->pop_back();
        } else if (out) {
            *out = std::move(r);
        }
    }
    return ok && conn_ && error->empty();
}

bool Conn::stream(const std::string& sql, const std::vector<std::string>& params,
                  const std::function<void(const Result& row)>& each, std::string* error) {
    if (!send(sql, params, true, error)) return false;
    bool ok = true;
    error->clear();
    // The deadline is per row: a long answer is fine, a silent server is not.
    while (pg_result* raw = next(std::chrono::steady_clock::now() + timeout_, error)) {
        Result r(raw);
        const ExecStatusType st = PQresultStatus(raw);
        if (st == PGRES_SINGLE_TUPLE) {
            if (ok) each(r);
        } else if (st != PGRES_TUPLES_OK) {
            ok = false;
            *error = PQresultErrorMessage(raw);
            while (!error->empty() && error->back() == '\n') error->pop_back();
        }
    }
    return ok && conn_ && error->empty();
}


}  // namespace tlspolicy::pg
