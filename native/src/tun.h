#pragma once
#include <string>

namespace ikegw {
/**
 * Open a TUN device (IFF_TUN | IFF_NO_PI, single queue), set its MTU and bring it up.
 * Returns a close-on-exec fd (non-blocking unless `blocking`), or -1 with *err set. *actualName receives the
 * kernel's name (useful with "name%d" patterns).
 * offload: IFF_VNET_HDR + TUNSETOFFLOAD(CSUM, TSO4, TSO6): reads then carry a virtio_net_hdr
 * and may be TCP super-packets (the Engine splits them), writes need a virtio_net_hdr (the
 * Engine coalesces TCP segments into super-packets). The Engine detects the mode per fd.
 */
int openTun(const std::string& name, int mtu, std::string* actualName, std::string* err, bool offload = false,
            bool blocking = false);
}
