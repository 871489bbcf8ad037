// Compiler hints shared by the reduction kernels.
#ifndef MOONCOMM_ALGORITHMS_REDUCE_REDUCE_INLINE_H_
#define MOONCOMM_ALGORITHMS_REDUCE_REDUCE_INLINE_H_

// The kernels' helpers must be inlined into each per-ISA kernel, so that they
// are compiled (and vectorized) for that kernel's target and never called
// across a boundary with vector arguments.
#define MC_REDUCE_INLINE __attribute__((always_inline)) inline

// Placed before an elementwise loop whose output may be the very same memory
// as an input (never a shifted copy of it): no iteration depends on another,
// so the compiler may vectorize without alias checks.
#if defined(__clang__)
#define MC_REDUCE_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define MC_REDUCE_IVDEP _Pragma("GCC ivdep")
#else
#define MC_REDUCE_IVDEP
#endif

#endif  // MOONCOMM_ALGORITHMS_REDUCE_REDUCE_INLINE_H_
