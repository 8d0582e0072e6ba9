// minictr-proxy: a container's published ports on [::1], for a container on a dual-stack (--ipv6) network.
//
// Kernel DNAT publishes -p over IPv6 on the host's own addresses (src/network/network-firewall.ts), but it cannot
// on [::1]: IPv6 has no route_localnet, and the kernel never lets a ::1 source leave by the bridge. Docker serves
// loopback with its userland proxy (docker-proxy); this is minictr's, one process per container for all of its
// ports, one thread, one epoll loop, without a C library (nolibc.h), so that it costs a few pages.
//
//   minictr-proxy UID GID TARGET MAPPING...
//
//   TARGET   the container's IPv6 address, as 32 hex digits (network byte order)
//   MAPPING  tcp:HOST-PORT:CONTAINER-PORT or udp:HOST-PORT:CONTAINER-PORT
//   fd 3     a socket to minictr. Once every host port is bound on [::1] (TCP: listening) and the process runs as
//            UID:GID with no capabilities and no_new_privs, it writes "ready\n"; on a failure, "error STEP INDEX
//            ERRNO\n" (INDEX: the mapping's, from 0) and exits 1. Then it waits for one byte, which minictr writes
//            once its journal names this process: EOF before that byte means minictr died first and nobody would
//            ever end this process, so it exits. After the byte, only SIGKILL at the container's teardown ends it.
//
// TCP: each accepted connection gets its own connection to TARGET:CONTAINER-PORT; bytes move both ways with
// splice() through a pipe per direction (never copied through this process), and a half-close is passed on.
// UDP: each client address is a flow with its own socket connected to TARGET:CONTAINER-PORT: datagrams go through,
// answers come back to the client, and a flow idle for kFlowIdleSeconds is closed (docker-proxy's 90 s).
// It connects only to TARGET and listens only on ::1: nothing reaches it from outside the host.
#include <linux/eventpoll.h>

#include "nolibc.h"

namespace {

constexpr int kControlFd = 3;
constexpr int kAfInet6 = 10;
constexpr int kSockStream = 1;
constexpr int kSockDgram = 2;
constexpr int kSockFlags = O_NONBLOCK | O_CLOEXEC;
constexpr int kIpprotoIpv6 = 41;
constexpr int kIpv6V6only = 26;
constexpr int kShutWrite = 1;
constexpr unsigned kSpliceFlags = 1 | 2;  // SPLICE_F_MOVE | SPLICE_F_NONBLOCK
constexpr int kPrSetNoNewPrivs = 38;
constexpr int kClockMonotonic = 1;
constexpr int kMaxMappings = 64;
constexpr int kMaxConnections = 128;  // 6 descriptors each (FitToDescriptorLimit)
constexpr int kConnectionDescriptors = 6;
constexpr int kRlimitNofile = 7;
constexpr int kMaxFlows = 128;
constexpr long kFlowIdleSeconds = 90;
constexpr size_t kSpliceChunk = 65536;

// The kernel's struct sockaddr_in6.
struct Address6 {
  unsigned short family;
  unsigned short port;  // network byte order
  unsigned flowinfo;
  unsigned char address[16];
  unsigned scope;
};

unsigned short NetworkOrder(unsigned port) { return static_cast<unsigned short>((port >> 8 & 0xff) | (port & 0xff) << 8); }

// The system calls of this program (nolibc.h has the monitor's).
int Socket(int type) { return static_cast<int>(sys::Sys(__NR_socket, kAfInet6, type | kSockFlags, 0)); }
int SetOption(int fd, int level, int name, int value) {
  return static_cast<int>(sys::Sys(__NR_setsockopt, fd, level, name, &value, sizeof value));
}
int Bind(int fd, const Address6& address) { return static_cast<int>(sys::Sys(__NR_bind, fd, &address, sizeof address)); }
int Connect(int fd, const Address6& address) {
  return static_cast<int>(sys::Sys(__NR_connect, fd, &address, sizeof address));
}
int Listen(int fd) { return static_cast<int>(sys::Sys(__NR_listen, fd, 128)); }
int Accept(int fd) { return static_cast<int>(sys::Sys(__NR_accept4, fd, nullptr, nullptr, kSockFlags)); }
int Shutdown(int fd, int how) { return static_cast<int>(sys::Sys(__NR_shutdown, fd, how)); }
int Pipe(int fds[2]) { return static_cast<int>(sys::Sys(__NR_pipe2, fds, O_NONBLOCK | O_CLOEXEC)); }
long Splice(int from, int to, size_t size) { return sys::Sys(__NR_splice, from, nullptr, to, nullptr, size, kSpliceFlags); }
long ReceiveFrom(int fd, void* buffer, size_t size, Address6* from) {
  int length = sizeof *from;
  return sys::Sys(__NR_recvfrom, fd, buffer, size, 0, from, from != nullptr ? &length : nullptr);
}
long SendTo(int fd, const void* buffer, size_t size, const Address6* to) {
  return sys::Sys(__NR_sendto, fd, buffer, size, 0, to, to != nullptr ? sizeof *to : 0);
}
int epoll = -1;
int Watch(int fd, unsigned events, unsigned long long tag) {
  struct epoll_event event = {events, tag};
  return static_cast<int>(sys::Sys(__NR_epoll_ctl, epoll, EPOLL_CTL_ADD, fd, &event));
}
long Now() {
  struct __kernel_timespec now = {0, 0};
  sys::Sys(__NR_clock_gettime, kClockMonotonic, &now);
  return static_cast<long>(now.tv_sec);
}

// An epoll tag: what the descriptor is (high half) and its index in its table.
enum Kind : unsigned long long { kListener = 1, kConnection = 2, kFlow = 3, kControl = 4 };
unsigned long long Tag(Kind kind, int index) { return kind << 32 | static_cast<unsigned>(index); }

struct Mapping {
  bool tcp;
  unsigned host_port;
  Address6 target;
  int fd;
};
Mapping mappings[kMaxMappings];
int mapping_count = 0;

// One direction of a TCP connection: what `from` sent sits in the pipe until `to` takes it.
struct Direction {
  int from;
  int to;
  int pipe[2];
  size_t pending;  // bytes in the pipe
  bool ended;      // `from` ended, and `to` was told (shutdown)
};

struct Connection {
  bool used;
  bool connected;  // the container's side accepted: the client's bytes may go
  Direction up;    // client → container
  Direction down;  // container → client
};
Connection connections[kMaxConnections];
int connection_limit = kMaxConnections;

struct Flow {
  bool used;
  int mapping;
  int fd;
  Address6 client;
  long last_active;
};
Flow flows[kMaxFlows];
int flow_count = 0;

// A datagram's bytes; zero-initialized, so that its pages cost nothing until a large datagram comes.
char datagram[65536];

// Moves what `from` has to `to` until one of them would block. False when the connection failed.
bool Pump(Direction& direction) {
  for (;;) {
    if (direction.pending > 0) {
      long moved = Splice(direction.pipe[0], direction.to, direction.pending);
      if (moved == -EINTR) continue;
      if (moved == -EAGAIN) return true;
      if (moved <= 0) return false;
      direction.pending -= static_cast<size_t>(moved);
      continue;
    }
    if (direction.ended) return true;
    long moved = Splice(direction.from, direction.pipe[1], kSpliceChunk);
    if (moved == -EINTR) continue;
    if (moved == -EAGAIN) return true;
    if (moved < 0) return false;
    if (moved == 0) {
      direction.ended = true;
      Shutdown(direction.to, kShutWrite);
      return true;
    }
    direction.pending += static_cast<size_t>(moved);
  }
}

void CloseConnection(Connection& connection) {
  const int fds[] = {connection.up.from, connection.down.from, connection.up.pipe[0], connection.up.pipe[1],
                     connection.down.pipe[0], connection.down.pipe[1]};
  for (int fd : fds) {
    if (fd >= 0) sys::Close(fd);
  }
  connection.used = false;
}

void Serve(Connection& connection, unsigned events) {
  if ((events & EPOLLOUT) != 0 && (events & EPOLLERR) == 0) connection.connected = true;
  bool ok = (!connection.connected || Pump(connection.up)) && Pump(connection.down);
  bool done = connection.up.ended && connection.down.ended && connection.up.pending == 0 && connection.down.pending == 0;
  if (!ok || done) CloseConnection(connection);
}

// A new client of a TCP port: a connection to the container, and a pipe each way. Refused (closed) when the table
// is full or a descriptor cannot be had.
void Admit(const Mapping& mapping, int client) {
  int index = 0;
  while (index < connection_limit && connections[index].used) index++;
  if (index == connection_limit) {
    sys::Close(client);
    return;
  }
  Connection& connection = connections[index];
  connection = Connection{true, false, {client, -1, {-1, -1}, 0, false}, {-1, client, {-1, -1}, 0, false}};
  int upstream = Socket(kSockStream);
  connection.up.to = connection.down.from = upstream;
  unsigned events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  long connected = upstream < 0 ? upstream : Connect(upstream, mapping.target);
  if ((connected < 0 && connected != -EINPROGRESS) || Pipe(connection.up.pipe) < 0 || Pipe(connection.down.pipe) < 0 ||
      Watch(client, events, Tag(kConnection, index)) < 0 || Watch(upstream, events, Tag(kConnection, index)) < 0) {
    CloseConnection(connection);
  }
}

void CloseFlow(Flow& flow) {
  sys::Close(flow.fd);
  flow.used = false;
  flow_count--;
}

bool SameClient(const Address6& a, const Address6& b) {
  if (a.port != b.port) return false;
  for (int i = 0; i < 16; i++) {
    if (a.address[i] != b.address[i]) return false;
  }
  return true;
}

// The flow of `client` on a UDP port, made when it has none (the least recently active one is closed when the
// table is full); null when no socket can be had.
Flow* FlowOf(int mapping, const Address6& client, long now) {
  Flow* free = nullptr;
  Flow* oldest = nullptr;
  for (Flow& flow : flows) {
    if (!flow.used) {
      if (free == nullptr) free = &flow;
    } else if (flow.mapping == mapping && SameClient(flow.client, client)) {
      return &flow;
    } else if (oldest == nullptr || flow.last_active < oldest->last_active) {
      oldest = &flow;
    }
  }
  if (free == nullptr) {
    CloseFlow(*oldest);
    free = oldest;
  }
  int fd = Socket(kSockDgram);
  if (fd < 0) return nullptr;
  if (Connect(fd, mappings[mapping].target) < 0 || Watch(fd, EPOLLIN, Tag(kFlow, static_cast<int>(free - flows))) < 0) {
    sys::Close(fd);
    return nullptr;
  }
  *free = Flow{true, mapping, fd, client, now};
  flow_count++;
  return free;
}

// Datagrams from clients, each sent on to the container through the client's flow.
void FromClients(int mapping) {
  for (;;) {
    Address6 client = {};
    long got = ReceiveFrom(mappings[mapping].fd, datagram, sizeof datagram, &client);
    if (got == -EINTR) continue;
    if (got < 0) return;
    long now = Now();
    Flow* flow = FlowOf(mapping, client, now);
    if (flow == nullptr) continue;
    flow->last_active = now;
    SendTo(flow->fd, datagram, static_cast<size_t>(got), nullptr);
  }
}

// The container's answers on a flow, each sent back to its client from the published port.
void FromContainer(Flow& flow) {
  for (;;) {
    long got = ReceiveFrom(flow.fd, datagram, sizeof datagram, nullptr);
    if (got == -EINTR) continue;
    if (got < 0) return;
    flow.last_active = Now();
    SendTo(mappings[flow.mapping].fd, datagram, static_cast<size_t>(got), &flow.client);
  }
}

void ExpireFlows() {
  long now = Now();
  for (Flow& flow : flows) {
    if (flow.used && now - flow.last_active >= kFlowIdleSeconds) CloseFlow(flow);
  }
}

// "tcp:8080:80" into `mapping`, towards `target`.
bool ParseMapping(const char* text, const unsigned char target[16], Mapping* mapping) {
  bool tcp = text[0] == 't' && text[1] == 'c' && text[2] == 'p';
  bool udp = text[0] == 'u' && text[1] == 'd' && text[2] == 'p';
  unsigned long long host = 0;
  unsigned long long container = 0;
  const char* rest = nullptr;
  if ((!tcp && !udp) || text[3] != ':' || !ParseNumber(text + 4, &host, ':', &rest) ||
      !ParseNumber(rest + 1, &container) || host < 1 || host > 65535 || container < 1 || container > 65535) {
    return false;
  }
  Address6 to = {kAfInet6, NetworkOrder(static_cast<unsigned>(container)), 0, {}, 0};
  *mapping = Mapping{tcp, static_cast<unsigned>(host), to, -1};
  memcpy(mapping->target.address, target, 16);
  return true;
}

bool ParseTarget(const char* hex, unsigned char out[16]) {
  for (int i = 0; i < 32; i++) {
    char c = hex[i];
    unsigned digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<unsigned>(c - 'a' + 10);
    } else {
      return false;
    }
    out[i / 2] = static_cast<unsigned char>(i % 2 == 0 ? digit << 4 : out[i / 2] | digit);
  }
  return hex[32] == '\0';
}

// Reports a failed step to minictr and exits.
[[noreturn]] void Fail(const char* step, int index, long error) {
  char buffer[64];
  size_t length = 0;
  auto add = [&](const char* text) {
    while (*text != '\0' && length < sizeof buffer - 12) buffer[length++] = *text++;
  };
  auto add_number = [&](unsigned long long value) {
    char digits[20];
    int n = 0;
    do digits[n++] = static_cast<char>('0' + value % 10); while ((value /= 10) > 0);
    while (n > 0 && length < sizeof buffer - 1) buffer[length++] = digits[--n];
  };
  add("error ");
  add(step);
  add(" ");
  add_number(static_cast<unsigned>(index));
  add(" ");
  add_number(static_cast<unsigned long long>(-error));
  buffer[length++] = '\n';
  sys::Write(kControlFd, buffer, length);
  sys::Exit(1);
}

// Binds (and for TCP listens on) [::1]:HOST-PORT.
void Open(Mapping& mapping, int index) {
  Address6 loopback = {kAfInet6, NetworkOrder(mapping.host_port), 0, {}, 0};
  loopback.address[15] = 1;
  int fd = Socket(mapping.tcp ? kSockStream : kSockDgram);
  if (fd < 0) Fail("socket", index, fd);
  // TCP: a port whose connections of a previous proxy linger in TIME_WAIT can be listened on again at once (a
  // listener still conflicts). UDP: never shared.
  long failed = SetOption(fd, kIpprotoIpv6, kIpv6V6only, 1);
  if (failed == 0 && mapping.tcp) failed = SetOption(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  if (failed < 0) Fail("setsockopt", index, failed);
  if ((failed = Bind(fd, loopback)) < 0) Fail("bind", index, failed);
  if (mapping.tcp && (failed = Listen(fd)) < 0) Fail("listen", index, failed);
  if ((failed = Watch(fd, EPOLLIN, Tag(kListener, index))) < 0) Fail("epoll_ctl", index, failed);
  mapping.fd = fd;
}

// The soft descriptor limit raised to the hard one (as Node does), and no more connections admitted than it leaves
// room for: accept must never fail with EMFILE, since the listener would then stay readable and wake the loop for
// ever. A client beyond the limit is accepted and closed at once. Room is kept for the listeners, the UDP flows and
// a few more (epoll, the control socket, stdio, the client being accepted).
void FitToDescriptorLimit() {
  struct { unsigned long long soft, hard; } limit{};
  if (sys::Sys(__NR_prlimit64, 0, kRlimitNofile, nullptr, &limit) < 0) return;
  limit.soft = limit.hard;
  sys::Sys(__NR_prlimit64, 0, kRlimitNofile, &limit, nullptr);
  bool udp = false;
  for (int i = 0; i < mapping_count; i++) udp = udp || !mappings[i].tcp;
  long long room = static_cast<long long>(limit.soft > 1 << 20 ? 1 << 20 : limit.soft) - 8 - mapping_count -
                   (udp ? kMaxFlows : 0);
  long long fits = room > 0 ? room / kConnectionDescriptors : 0;
  connection_limit = fits < kMaxConnections ? static_cast<int>(fits) : kMaxConnections;
}

// No supplementary groups, UID:GID for all three ids (which clears every capability), and no_new_privs.
void DropPrivileges(unsigned long long uid, unsigned long long gid) {
  long failed = sys::Sys(__NR_setgroups, 0, nullptr);
  if (failed == 0) failed = sys::Sys(__NR_setresgid, gid, gid, gid);
  if (failed == 0) failed = sys::Sys(__NR_setresuid, uid, uid, uid);
  if (failed == 0) failed = sys::Sys(__NR_prctl, kPrSetNoNewPrivs, 1, 0, 0, 0);
  if (failed < 0) Fail("drop privileges", 0, failed);
}

}  // namespace

int main(int argc, char** argv, char**) {
  unsigned long long uid = 0;
  unsigned long long gid = 0;
  unsigned char target[16];
  bool usage = argc < 5 || argc - 4 > kMaxMappings || !ParseNumber(argv[1], &uid) || !ParseNumber(argv[2], &gid) ||
               uid == 0 || gid == 0 || !ParseTarget(argv[3], target);
  for (int i = 4; !usage && i < argc; i++) usage = !ParseMapping(argv[i], target, &mappings[mapping_count++]);
  if (usage) {
    static const char text[] = "usage: minictr-proxy UID GID TARGET-HEX tcp|udp:HOST-PORT:CONTAINER-PORT...\n";
    sys::Write(2, text, sizeof text - 1);
    return 2;
  }

  // 1. Every port bound before anything else, then no privilege left; a write to a closed connection is an error
  //    of that connection, not a signal.
  sys::IgnoreSignal(SIGPIPE);
  sys::IgnoreSignal(SIGHUP);
  epoll = static_cast<int>(sys::Sys(__NR_epoll_create1, O_CLOEXEC));
  if (epoll < 0) Fail("epoll_create1", 0, epoll);
  for (int i = 0; i < mapping_count; i++) Open(mappings[i], i);
  FitToDescriptorLimit();
  DropPrivileges(uid, gid);
  if (Watch(kControlFd, EPOLLIN, Tag(kControl, 0)) < 0 || sys::Write(kControlFd, "ready\n", 6) != 6) return 1;

  // 2. Serve until killed (or, before the commit byte, until minictr is gone).
  struct epoll_event events[32];
  for (;;) {
    int timeout = flow_count > 0 ? 10000 : -1;
    int ready = static_cast<int>(sys::Sys(__NR_epoll_pwait, epoll, events, 32, timeout, nullptr, 8));
    if (ready == -EINTR) continue;
    if (ready < 0) return 1;
    for (int i = 0; i < ready; i++) {
      unsigned long long tag = events[i].data;
      int index = static_cast<int>(tag & 0xffffffff);
      switch (tag >> 32) {
        case kListener:
          if (!mappings[index].tcp) {
            FromClients(index);
            break;
          }
          for (int client; (client = Accept(mappings[index].fd)) >= 0 || client == -EINTR;) {
            if (client >= 0) Admit(mappings[index], client);
          }
          break;
        case kConnection:
          if (connections[index].used) Serve(connections[index], events[i].events);
          break;
        case kFlow:
          if (flows[index].used) FromContainer(flows[index]);
          break;
        case kControl: {
          char byte;
          long got = sys::Read(kControlFd, &byte, 1);
          if (got == -EINTR || got == -EAGAIN) break;
          if (got != 1) return 0;  // minictr died before its journal named this process
          sys::Close(kControlFd);    // committed: from now on, only the teardown ends this process
          break;
        }
      }
    }
    if (flow_count > 0) ExpireFlows();
  }
}
