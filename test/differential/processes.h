// The servers of the differential fuzzer: real redis-server and memcached on free 127.0.0.1
// ports and the //:proxy binary, each stopped (SIGTERM, then SIGKILL) by its destructor. The
// process, port and path helpers are the integration harness's (test/integration/harness.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "test/integration/harness.h"

namespace proxy::test::differential {

using test::FindExecutable;
using test::FreePort;
using test::Process;
using test::Resp;
using test::Runfile;
using test::TempPath;

// A backend or the proxy, listening on 127.0.0.1 ports once ok().
class Server {
 public:
  static std::unique_ptr<Server> Redis();
  static std::unique_ptr<Server> Memcached();
  // The proxy on `yaml`, up once every port in `ports` accepts.
  static std::unique_ptr<Server> Proxy(const std::string& yaml, const std::vector<int>& ports,
                                       const std::vector<std::string>& extra_args);
  bool ok() const { return ok_; }
  int port() const { return port_; }
  bool Running() { return process_.Running(); }
  std::string Log() const;

 private:
  bool Launch(const std::vector<std::string>& argv, const std::vector<int>& ports);
  bool ok_ = false;
  int port_ = 0;
  std::string log_path_;
  Process process_;
};

}  // namespace proxy::test::differential
