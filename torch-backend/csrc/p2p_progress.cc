#include "p2p_progress.h"

#include <algorithm>
#include <chrono>

namespace mc::torch_backend {

P2PProgress::~P2PProgress() { Stop(); }

void P2PProgress::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::vector<c10::weak_intrusive_ptr<MoonCommWork>> tracked;
  {
    std::lock_guard<std::mutex> lock(mu_);
    tracked.swap(tracked_);
    polled_.clear();
  }
  for (auto& weak : tracked) {
    if (c10::intrusive_ptr<MoonCommWork> w = weak.lock()) {
      w->Abandon("the process group was destroyed before this operation completed");
    }
  }
}

void P2PProgress::Track(const c10::intrusive_ptr<MoonCommWork>& work) {
  bool stopped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped = stop_;
    if (!stopped) {
      // Forget finished works now and then, so the list stays short.
      if (tracked_.size() >= 64) {
        std::erase_if(tracked_, [](const c10::weak_intrusive_ptr<MoonCommWork>& weak) {
          c10::intrusive_ptr<MoonCommWork> w = weak.lock();
          return !w || w->finished();
        });
      }
      tracked_.emplace_back(work);
    }
  }
  if (stopped) work->Abandon("the process group was destroyed");
}

void P2PProgress::Poll(c10::intrusive_ptr<MoonCommWork> work) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;  // Stop() fails it
    polled_.push_back(std::move(work));
    if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
  }
  cv_.notify_one();
}

void P2PProgress::Loop() {
  std::vector<c10::intrusive_ptr<MoonCommWork>> pass;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !polled_.empty(); });
      if (stop_) return;
      pass = polled_;
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
      std::erase_if(polled_, [&](const c10::intrusive_ptr<MoonCommWork>& w) {
        return std::find(finished.begin(), finished.end(), w.get()) != finished.end();
      });
      more = !polled_.empty();
    }
    if (more) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

}  // namespace mc::torch_backend
