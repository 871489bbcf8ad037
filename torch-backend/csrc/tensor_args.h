// Checking and translating what PyTorch passes a backend: dtypes and reduce
// ops to the algorithm library's, CPU-only and same-dtype checks with errors
// that name the problem, and staging of non-contiguous tensors.
#ifndef MOONCOMM_TORCH_TENSOR_ARGS_H_
#define MOONCOMM_TORCH_TENSOR_ARGS_H_

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/Types.hpp>

#include <string>
#include <vector>

#include "mooncomm/datatype.h"

namespace mc::torch_backend {

// ValueError (Python) naming `what` unless the dtype has a MoonComm type.
DataType ToDataType(const at::Tensor& t, const char* what);
// ValueError for ops other than SUM, PRODUCT, MIN, MAX, AVG.
ReduceOp ToReduceOp(const c10d::ReduceOp& op, const char* what);

// ValueError unless `t` is a dense CPU tensor.
void CheckCpu(const at::Tensor& t, const char* what);
// ValueError unless the list has exactly `n` tensors.
void CheckCount(const std::vector<at::Tensor>& ts, size_t n, const char* what, const char* which);
// ValueError unless every tensor of `ts` has `like`'s dtype and numel.
void CheckSameAs(const std::vector<at::Tensor>& ts, const at::Tensor& like, const char* what, const char* which);

// A contiguous tensor to hand the library: `t` itself when it is contiguous,
// else a contiguous copy (CopyBack() writes results into `t`).
class Staged {
 public:
  explicit Staged(at::Tensor t, bool copy_in = true);
  void* data() const { return buf_.data_ptr(); }
  const at::Tensor& buffer() const { return buf_; }
  size_t numel() const { return static_cast<size_t>(buf_.numel()); }
  void CopyBack();

 private:
  at::Tensor user_;
  at::Tensor buf_;
};

}  // namespace mc::torch_backend

#endif  // MOONCOMM_TORCH_TENSOR_ARGS_H_
