// MemoryReleaser: malloc_trim after a drop in client connections (memory_release.h).
#include "core/server/memory_release.h"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <utility>

#include "core/common/log.h"

namespace proxy {

MemoryReleaser::MemoryReleaser(std::function<ClientCounts()> counts, std::function<void()> trim,
                               int period_ms)
    : counts_(std::move(counts)), trim_(std::move(trim)), period_ms_(period_ms) {
  if (trim_ == nullptr) trim_ = [] { malloc_trim(0); };
  // Process signals go to the main thread's sigwait (Server::Run), never to this thread, which
  // may be started before the main thread blocks them: it starts with them blocked (a thread
  // inherits its creator's mask). Faults stay unblocked, for the crash handler.
  sigset_t blocked;
  sigfillset(&blocked);
  for (int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS}) {
    sigdelset(&blocked, fault);
  }
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &blocked, &previous);
  thread_ = std::thread([this] { Run(); });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

MemoryReleaser::~MemoryReleaser() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void MemoryReleaser::Run() {
  TrimPolicy policy;
  std::unique_lock<std::mutex> lock(mu_);
  while (!wake_.wait_for(lock, std::chrono::milliseconds(period_ms_), [this] { return stop_; })) {
    const ClientCounts counts = counts_();
    if (!policy.Check(counts)) continue;
    PROXY_LOG(log::kVerb, "client connections fell to %lld: returning free heap to the kernel",
              static_cast<long long>(counts.live));
    trim_();
  }
}

}  // namespace proxy
