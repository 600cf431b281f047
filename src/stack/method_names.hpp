// Config spellings of the stacking methods (stack_reject_algo, stack_final_combine, stack_norm_method,
// stack_weight_method) and back.
#pragma once

#include <optional>
#include <string_view>

#include "stack/normalize.hpp"
#include "stack/rejection.hpp"
#include "stack/weights.hpp"

namespace zm {

// "none" | "kappa_sigma" | "winsorized_sigma_clip" | "linear_fit_clip"
std::optional<RejectAlgo> parse_reject_algo(std::string_view name);
// "mean" | "median"
std::optional<CombineMethod> parse_combine_method(std::string_view name);
// "none" | "linear_fit" | "sky_mean"
std::optional<NormMethod> parse_norm_method(std::string_view name);
// "none" | "noise_variance" | "noise_fwhm"
std::optional<WeightMethod> parse_weight_method(std::string_view name);

std::string_view to_string(RejectAlgo a);
std::string_view to_string(CombineMethod m);
std::string_view to_string(NormMethod m);
std::string_view to_string(WeightMethod m);

}  // namespace zm
