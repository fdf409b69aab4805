// Picks the writer backend and the reader for an [observations] database
// value: a postgresql:// URL or a SQLite path. The backends live in
// store/sqlite/ and store/postgres/, each with its schema.
#include "store/observation_source.hpp"

#include "store/observation_backend.hpp"

namespace tlspolicy {

std::unique_ptr<ObservationBackend> make_backend(const std::string& database, std::chrono::milliseconds timeout) {
    return is_postgres_url(database) ? make_postgres_backend(database, timeout) : make_sqlite_backend(database);
}

std::unique_ptr<ObservationSource> open_observation_source(const std::string& database, std::string* error) {
    if (is_postgres_url(database)) return open_postgres_source(database, error);
    return open_sqlite_source(database);
}

}  // namespace tlspolicy
