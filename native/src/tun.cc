#include "tun.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ikegw {

int openTun(const std::string& name, int mtu, std::string* actualName, std::string* err, bool offload, bool blocking) {
  if (name.size() >= IFNAMSIZ) {
    *err = "interface name too long: " + name;
    return -1;
  }
  int fd = open("/dev/net/tun", O_RDWR | (blocking ? 0 : O_NONBLOCK) | O_CLOEXEC);
  if (fd < 0) {
    *err = std::string("open /dev/net/tun: ") + strerror(errno);
    return -1;
  }
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
  strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    *err = std::string("TUNSETIFF ") + name + ": " + strerror(errno);
    close(fd);
    return -1;
  }
  *actualName = ifr.ifr_name;
  if (offload) {
    // virtio_net_hdr (10 bytes) in front of every packet; let the kernel hand us TCP
    // super-packets (TSO) with partial checksums. Without TUNSETOFFLOAD support the header
    // is still there (always GSO_NONE), which the engine handles too.
    int hs = 10;
    ioctl(fd, TUNSETVNETHDRSZ, &hs);
    unsigned off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
    if (ioctl(fd, TUNSETOFFLOAD, off) < 0) ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM);
  }
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    *err = std::string("socket: ") + strerror(errno);
    close(fd);
    return -1;
  }
  ifreq r{};
  memcpy(r.ifr_name, ifr.ifr_name, IFNAMSIZ);
  if (mtu > 0) {
    r.ifr_mtu = mtu;
    if (ioctl(s, SIOCSIFMTU, &r) < 0) {
      *err = std::string("SIOCSIFMTU: ") + strerror(errno);
      close(s);
      close(fd);
      return -1;
    }
  }
  // Deeper kernel → userspace queue (default 500 packets, ~5 ms at 1 Gbit/s): a reader thread
  // that is descheduled for a moment on a busy host otherwise makes the TUN drop TCP bursts.
  r.ifr_qlen = 4096;
  ioctl(s, SIOCSIFTXQLEN, &r);  // best effort
  if (ioctl(s, SIOCGIFFLAGS, &r) < 0 || (r.ifr_flags |= IFF_UP | IFF_RUNNING, ioctl(s, SIOCSIFFLAGS, &r) < 0)) {
    *err = std::string("bring up: ") + strerror(errno);
    close(s);
    close(fd);
    return -1;
  }
  close(s);
  return fd;
}

}  // namespace ikegw
