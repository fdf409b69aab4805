// Reference milter (b), "the floor": its only callback is end of message,
// which adds one header. It registers no negotiate callback, so libmilter
// tells the MTA to skip every stage that has no callback: this is the least
// any header-stamping libmilter filter can cost. Used by run-protocol-bench.
//   floor_milter SOCKET        (unix:/path, inet:PORT@HOST)
#include <libmilter/mfapi.h>

#include <cstdio>
#include <csignal>

namespace {

sfsistat on_eom(SMFICTX* ctx) {
    smfi_addheader(ctx, const_cast<char*>("X-Bench-Floor"), const_cast<char*>("stamped"));
    return SMFIS_CONTINUE;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s SOCKET\n", argv[0]);
        return 2;
    }
    smfiDesc desc{};
    desc.xxfi_name = const_cast<char*>("bench-floor");
    desc.xxfi_version = SMFI_VERSION;
    desc.xxfi_flags = SMFIF_ADDHDRS;
    desc.xxfi_eom = on_eom;
    std::signal(SIGPIPE, SIG_IGN);
    if (smfi_register(desc) != MI_SUCCESS || smfi_setconn(argv[1]) != MI_SUCCESS ||
        smfi_opensocket(true) != MI_SUCCESS) {
        std::fprintf(stderr, "%s: cannot set up %s\n", argv[0], argv[1]);
        return 1;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
