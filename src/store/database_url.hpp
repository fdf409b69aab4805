// Which backend an [observations] database value names: the one rule, for
// the config loader (what it accepts) and the store (what it opens).
#pragma once
#include <string_view>

namespace tlspolicy {

inline bool is_postgres_url(std::string_view database) {
    return database.starts_with("postgresql://") || database.starts_with("postgres://");
}

}  // namespace tlspolicy
