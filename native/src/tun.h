#pragma once
#include <string>

namespace ikegw {
/**
 * Open a TUN device (IFF_TUN | IFF_NO_PI, single queue), set its MTU and bring it up.
 * Returns a non-blocking, close-on-exec fd, or -1 with *err set. *actualName receives the
 * kernel's name (useful with "name%d" patterns).
 */
int openTun(const std::string& name, int mtu, std::string* actualName, std::string* err);
}
