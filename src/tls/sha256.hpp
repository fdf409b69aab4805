// SHA-256 of bytes, as lowercase hex: how a policy version names the policy
// file it was loaded from. Here because OpenSSL lives under src/tls/.
#pragma once
#include <string>
#include <string_view>

namespace tlspolicy {

std::string sha256_hex(std::string_view bytes);

// Of a file's bytes; "" with *error set when it cannot be read.
std::string sha256_file_hex(const std::string& path, std::string* error);

}  // namespace tlspolicy
