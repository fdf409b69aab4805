// Showing an [observations] database value without its password.
#include "store/database_url.hpp"

#include <regex>

namespace tlspolicy {

std::string redact_database(const std::string& database) {
    if (!is_postgres_url(database)) return database;
    // scheme://user:password@host... -> scheme://user:***@host...; and a password= parameter.
    static const std::regex userinfo(R"(^(postgres(?:ql)?://[^:/@?]*):[^@/?]*@)");
    static const std::regex param(R"(([?&]password=)[^&]*)");
    return std::regex_replace(std::regex_replace(database, userinfo, "$1:***@"), param, "$1***");
}

}  // namespace tlspolicy
