#include "train/stop_signal.h"

#include <pthread.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <thread>

namespace dpst::train {
namespace {

std::atomic<int> g_signal{0};

}  // namespace

// The signals are blocked in the calling thread, and so in every thread started after
// it (MPI's, the loader's, OpenMP's), and taken by one thread that waits for them. No
// thread is ever interrupted inside a system call or a library.
void install_stop_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([set] {
      for (;;) {
        int signo = 0;
        if (sigwait(&set, &signo) == 0) g_signal = signo;
      }
    }).detach();
  });
}

bool stop_requested() { return g_signal != 0; }
int stop_signal() { return g_signal; }
void clear_stop_for_test() { g_signal = 0; }

}  // namespace dpst::train
