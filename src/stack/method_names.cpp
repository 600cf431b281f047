#include "stack/method_names.hpp"

#include <array>
#include <utility>

namespace zm {
namespace {

template <class E, std::size_t N>
std::optional<E> find_name(const std::array<std::pair<E, std::string_view>, N>& table, std::string_view name) {
  for (const auto& [e, s] : table)
    if (s == name) return e;
  return std::nullopt;
}

template <class E, std::size_t N>
std::string_view find_enum(const std::array<std::pair<E, std::string_view>, N>& table, E e) {
  for (const auto& [v, s] : table)
    if (v == e) return s;
  return "unknown";
}

constexpr std::array<std::pair<RejectAlgo, std::string_view>, 4> kRejectNames{{
    {RejectAlgo::None, "none"},
    {RejectAlgo::KappaSigma, "kappa_sigma"},
    {RejectAlgo::WinsorizedSigmaClip, "winsorized_sigma_clip"},
    {RejectAlgo::LinearFitClip, "linear_fit_clip"},
}};
constexpr std::array<std::pair<CombineMethod, std::string_view>, 2> kCombineNames{{
    {CombineMethod::Mean, "mean"},
    {CombineMethod::Median, "median"},
}};
constexpr std::array<std::pair<NormMethod, std::string_view>, 3> kNormNames{{
    {NormMethod::None, "none"},
    {NormMethod::LinearFit, "linear_fit"},
    {NormMethod::SkyMean, "sky_mean"},
}};
constexpr std::array<std::pair<WeightMethod, std::string_view>, 3> kWeightNames{{
    {WeightMethod::None, "none"},
    {WeightMethod::NoiseVariance, "noise_variance"},
    {WeightMethod::NoiseFwhm, "noise_fwhm"},
}};

}  // namespace

std::optional<RejectAlgo> parse_reject_algo(std::string_view n) { return find_name(kRejectNames, n); }
std::optional<CombineMethod> parse_combine_method(std::string_view n) { return find_name(kCombineNames, n); }
std::optional<NormMethod> parse_norm_method(std::string_view n) { return find_name(kNormNames, n); }
std::optional<WeightMethod> parse_weight_method(std::string_view n) { return find_name(kWeightNames, n); }

std::string_view to_string(RejectAlgo a) { return find_enum(kRejectNames, a); }
std::string_view to_string(CombineMethod m) { return find_enum(kCombineNames, m); }
std::string_view to_string(NormMethod m) { return find_enum(kNormNames, m); }
std::string_view to_string(WeightMethod m) { return find_enum(kWeightNames, m); }

}  // namespace zm
