#include "p2p_progress.h"

#include <algorithm>
#include <chrono>

namespace mc::torch_backend {

P2PProgress::P2PProgress() : thread_([this] { Loop(); }) {}

P2PProgress::~P2PProgress() { Stop(); }

void P2PProgress::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Before the Communicator goes: a pending operation can never finish now.
  std::vector<c10::intrusive_ptr<MoonCommWork>> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(pending_);
  }
  for (auto& w : left) w->Abandon("the process group was destroyed before this operation completed");
}

void P2PProgress::Add(c10::intrusive_ptr<MoonCommWork> work) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stop_) {
      pending_.push_back(work);
      work.reset();
    }
  }
  if (work) {
    work->Abandon("the process group was destroyed");
    return;
  }
  cv_.notify_one();
}

void P2PProgress::Loop() {
  std::vector<c10::intrusive_ptr<MoonCommWork>> pass;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !pending_.empty(); });
      if (stop_) return;
      pass = pending_;
    }
    // Progress() with blocking=false skips a work whose wait() is driving it.
    std::vector<MoonCommWork*> finished;
    for (auto& w : pass) {
      if (w->Progress(/*blocking=*/false)) finished.push_back(w.get());
    }
    pass.clear();
    bool more;
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::erase_if(pending_, [&](const c10::intrusive_ptr<MoonCommWork>& w) {
        return std::find(finished.begin(), finished.end(), w.get()) != finished.end();
      });
      more = !pending_.empty();
    }
    if (more) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

}  // namespace mc::torch_backend
