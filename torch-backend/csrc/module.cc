// mooncomm._C: the backend class for torch.distributed, and what Python
// asks it (active ranks, the ranks a Work's operation covered).
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/utils/pybind.h>

#include <chrono>

#include "process_group.h"
#include "work.h"

namespace py = pybind11;
using mc::torch_backend::MoonCommWork;
using mc::torch_backend::ProcessGroupMoonComm;

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.doc() = "MoonComm's c10d backend (use `import mooncomm`)";

  py::class_<ProcessGroupMoonComm, c10d::Backend, c10::intrusive_ptr<ProcessGroupMoonComm>>(m, "ProcessGroupMoonComm")
      .def(py::init([](const c10::intrusive_ptr<c10d::Store>& store, int rank, int size, int64_t timeout_ms,
                       std::optional<at::Tensor> active_ranks) {
             return c10::make_intrusive<ProcessGroupMoonComm>(store, rank, size, std::chrono::milliseconds(timeout_ms),
                                                              active_ranks.value_or(at::Tensor()));
           }),
           py::arg("store"), py::arg("rank"), py::arg("size"), py::arg("timeout_ms"), py::arg("active_ranks"),
           py::call_guard<py::gil_scoped_release>())
      .def("active_ranks", &ProcessGroupMoonComm::active_ranks)
      .def("describe_tuning", &ProcessGroupMoonComm::describe_tuning, py::call_guard<py::gil_scoped_release>());

  m.def(
      "work_participants",
      [](const c10::intrusive_ptr<c10d::Work>& work) -> std::optional<std::vector<int>> {
        auto* mine = dynamic_cast<MoonCommWork*>(work.get());
        if (mine == nullptr) return std::nullopt;
        return mine->participants();
      },
      py::arg("work"));
}
