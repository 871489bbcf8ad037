// Point-to-point works in the background. Every posted one is tracked, so
// that shutdown fails what is still pending before the Communicator goes.
// Only those whose future was asked for are finished by a thread here (wait()
// and is_completed() drive their own requests): a hand-off to a thread per
// message would cost more than the message. The thread starts on first use
// and sleeps while nothing is polled.
#ifndef MOONCOMM_TORCH_P2P_PROGRESS_H_
#define MOONCOMM_TORCH_P2P_PROGRESS_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "work.h"

namespace mc::torch_backend {

class P2PProgress {
 public:
  ~P2PProgress();
  void Track(const c10::intrusive_ptr<MoonCommWork>& work);
  // Finishes `work` without a wait(): its future was asked for.
  void Poll(c10::intrusive_ptr<MoonCommWork> work);
  // Joins the thread and fails every tracked work that has not finished.
  void Stop();

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<c10::weak_intrusive_ptr<MoonCommWork>> tracked_;
  std::vector<c10::intrusive_ptr<MoonCommWork>> polled_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace mc::torch_backend

#endif  // MOONCOMM_TORCH_P2P_PROGRESS_H_
