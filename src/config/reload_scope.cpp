// Restart-only keys on reload (reload_scope.hpp).
#include "config/reload_scope.hpp"

namespace tlspolicy {

std::vector<const KeyDecl*> restart_only_changes(const Config& running, const Config& loaded) {
    std::vector<const KeyDecl*> changed;
    for (const KeyDecl& k : schema())
        if (k.reload == Reload::Restart && k.show_setting(running) != k.show_setting(loaded)) changed.push_back(&k);
    return changed;
}

std::string restart_only_warning(const Config& running, const Config& loaded) {
    const std::vector<const KeyDecl*> changed = restart_only_changes(running, loaded);
    if (changed.empty()) return {};
    return "reload: " + keys_by_section(changed) + (changed.size() == 1 ? " takes" : " take") +
           " effect only on restart";
}

std::string restart_only_keys() {
    std::vector<const KeyDecl*> keys;
    for (const KeyDecl& k : schema())
        if (k.reload == Reload::Restart) keys.push_back(&k);
    return keys_by_section(keys);
}

}  // namespace tlspolicy
