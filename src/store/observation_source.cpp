// Picks the reader for an [observations] database value.
#include "store/observation_source.hpp"

#include "store/observation_backend.hpp"
#include "store/observation_reader.hpp"

namespace tlspolicy {
namespace {

class SqliteSource final : public ObservationSource {
public:
    explicit SqliteSource(std::string path) : path_(std::move(path)) {}
    std::string for_each(std::int64_t since, std::int64_t until,
                         const std::function<void(const Observation&)>& each) override {
        return for_each_observation(path_, since, until, each);
    }
    std::string policy_versions(std::int64_t since, std::int64_t until, std::vector<PolicyVersion>& out) override {
        return read_policy_versions(path_, since, until, out);
    }

private:
    std::string path_;
};

}  // namespace

std::unique_ptr<ObservationSource> open_observation_source(const std::string& database, std::string* error) {
    if (is_postgres_url(database)) return open_postgres_source(database, error);
    return std::make_unique<SqliteSource>(database);
}

}  // namespace tlspolicy
