// Finishes posted point-to-point works that nobody waits on, so that
// get_future() and is_completed() move without a wait(). One thread per
// backend, asleep while nothing is pending.
#ifndef MOONCOMM_TORCH_P2P_PROGRESS_H_
#define MOONCOMM_TORCH_P2P_PROGRESS_H_

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "work.h"

namespace mc::torch_backend {

class P2PProgress {
 public:
  P2PProgress();
  ~P2PProgress();  // stops the thread; works still pending stay unfinished
  void Add(c10::intrusive_ptr<MoonCommWork> work);
  void Stop();

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<c10::intrusive_ptr<MoonCommWork>> pending_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace mc::torch_backend

#endif  // MOONCOMM_TORCH_P2P_PROGRESS_H_
