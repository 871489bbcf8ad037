#include "tensor_args.h"

#include <c10/util/Exception.h>

namespace mc::torch_backend {

DataType ToDataType(const at::Tensor& t, const char* what) {
  switch (t.scalar_type()) {
    case at::kFloat: return DataType::kFloat32;
    case at::kDouble: return DataType::kFloat64;
    case at::kHalf: return DataType::kFloat16;
    case at::kBFloat16: return DataType::kBFloat16;
    case at::kChar: return DataType::kInt8;
    case at::kByte: return DataType::kUInt8;
    case at::kInt: return DataType::kInt32;
    case at::kLong: return DataType::kInt64;
    case at::kBool: return DataType::kBool;
    default:
      TORCH_CHECK_VALUE(false, "mooncomm ", what, ": dtype ", t.scalar_type(),
                        " is not supported (float32, float64, float16, bfloat16, int8, uint8, int32, int64, bool)");
  }
}

ReduceOp ToReduceOp(const c10d::ReduceOp& op, const char* what) {
  switch (op.op_) {
    case c10d::ReduceOp::SUM: return ReduceOp::kSum;
    case c10d::ReduceOp::PRODUCT: return ReduceOp::kProd;
    case c10d::ReduceOp::MIN: return ReduceOp::kMin;
    case c10d::ReduceOp::MAX: return ReduceOp::kMax;
    case c10d::ReduceOp::AVG: return ReduceOp::kAvg;
    case c10d::ReduceOp::BAND: TORCH_CHECK_VALUE(false, "mooncomm ", what, ": ReduceOp.BAND is not supported (SUM, PRODUCT, MIN, MAX, AVG are)");
    case c10d::ReduceOp::BOR: TORCH_CHECK_VALUE(false, "mooncomm ", what, ": ReduceOp.BOR is not supported (SUM, PRODUCT, MIN, MAX, AVG are)");
    case c10d::ReduceOp::BXOR: TORCH_CHECK_VALUE(false, "mooncomm ", what, ": ReduceOp.BXOR is not supported (SUM, PRODUCT, MIN, MAX, AVG are)");
    case c10d::ReduceOp::PREMUL_SUM: TORCH_CHECK_VALUE(false, "mooncomm ", what, ": ReduceOp.PREMUL_SUM is not supported (SUM, PRODUCT, MIN, MAX, AVG are)");
    default: TORCH_CHECK_VALUE(false, "mooncomm ", what, ": this ReduceOp is not supported (SUM, PRODUCT, MIN, MAX, AVG are)");
  }
}

void CheckCpu(const at::Tensor& t, const char* what) {
  TORCH_CHECK_VALUE(t.defined(), "mooncomm ", what, ": an undefined tensor");
  TORCH_CHECK_VALUE(t.device().is_cpu(), "mooncomm ", what, ": a tensor on ", t.device(),
                    "; this backend takes CPU tensors (CUDA tensors need a device backend such as nccl)");
  TORCH_CHECK_VALUE(t.layout() == at::kStrided, "mooncomm ", what, ": a ", t.layout(),
                    " tensor; only dense (strided) tensors are supported");
  (void)ToDataType(t, what);
}

void CheckCount(const std::vector<at::Tensor>& ts, size_t n, const char* what, const char* which) {
  TORCH_CHECK_VALUE(ts.size() == n, "mooncomm ", what, ": ", which, " has ", ts.size(), " tensors where ", n,
                    " were expected");
}

void CheckSameAs(const std::vector<at::Tensor>& ts, const at::Tensor& like, const char* what, const char* which) {
  for (size_t i = 0; i < ts.size(); ++i) {
    CheckCpu(ts[i], what);
    TORCH_CHECK_VALUE(ts[i].scalar_type() == like.scalar_type(), "mooncomm ", what, ": ", which, "[", i, "] is ",
                      ts[i].scalar_type(), " where the input is ", like.scalar_type());
    TORCH_CHECK_VALUE(ts[i].numel() == like.numel(), "mooncomm ", what, ": ", which, "[", i, "] has ", ts[i].numel(),
                      " elements where the input has ", like.numel());
  }
}

Staged::Staged(at::Tensor t, bool copy_in) : user_(std::move(t)) {
  if (user_.is_contiguous()) {
    buf_ = user_;
  } else {
    buf_ = copy_in ? user_.contiguous() : at::empty(user_.sizes(), user_.options());
  }
}

void Staged::CopyBack() {
  if (!buf_.is_same(user_)) user_.copy_(buf_);
}

}  // namespace mc::torch_backend
