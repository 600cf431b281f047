// Standard-normal quantile function Phi^-1(p), used for the expected order statistics of LinearFitClip.
#pragma once

namespace zm::detail {

// Acklam's rational approximation (relative error < 1.2e-9 on (0, 1)). Returns -inf/+inf at 0/1, NaN outside.
double normal_quantile(double p);

}  // namespace zm::detail
