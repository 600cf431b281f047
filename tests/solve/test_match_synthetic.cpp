// Star matching for WCS propagation on synthetic lists: any rotation, flips, +-2 % scale, 30 % of the stars
// missing and 30 % spurious ones; the recovered transform must be the true one.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "solve/propagate.hpp"
#include "stars/match.hpp"

namespace zm {
namespace {

std::vector<Star> random_field(std::mt19937_64& rng, int n, double w, double h) {
  std::uniform_real_distribution<double> ux(0.0, w), uy(0.0, h), lf(0.0, 4.0);
  std::vector<Star> s(n);
  for (auto& st : s) {
    st.x = ux(rng);
    st.y = uy(rng);
    st.flux = std::pow(10.0, lf(rng));
    st.fwhm = 3.0;
    st.snr = 50.0;
  }
  return s;
}

struct Case {
  double angle_deg;
  bool flip;
  double scale;
};

TEST(MatchSynthetic, AnyRotationFlipScaleMissingAndSpurious) {
  const double w = 1080, h = 1920;
  int cases = 0;
  for (double angle : {0.0, 37.0, 90.0, 133.0, 179.0, -178.5, -91.0, -45.0, 271.0}) {
    for (bool flip : {false, true}) {
      for (double scale : {0.98, 1.0, 1.02}) {
        std::mt19937_64 rng(static_cast<std::uint64_t>(1000 + cases));
        const auto ref = random_field(rng, 200, w, h);
        const Affine2D truth = Affine2D::similarity(scale, angle * M_PI / 180.0, flip, 540.0, 960.0)
                                   .compose(Affine2D::translation(-540.0, -960.0));
        const Affine2D ref_to_target = truth.inverse();  // truth maps target -> ref
        std::normal_distribution<double> noise(0.0, 0.05);
        std::uniform_real_distribution<double> u01(0.0, 1.0);
        std::vector<Star> target;
        for (const Star& s : ref) {
          if (u01(rng) < 0.3) continue;  // 30 % missing
          Star t = s;
          const Point2 p = ref_to_target.apply({s.x, s.y});
          t.x = p.x + noise(rng);
          t.y = p.y + noise(rng);
          target.push_back(t);
        }
        const auto spurious = random_field(rng, static_cast<int>(0.3 * ref.size()), w, h);
        target.insert(target.end(), spurious.begin(), spurious.end());

        MatchParams mp = PropagationParams::default_match();
        const MatchResult m = match_stars(ref, target, mp);
        ASSERT_TRUE(m.ok) << "angle " << angle << " flip " << flip << " scale " << scale << ": " << m.reason;
        EXPECT_EQ(m.transform.is_flipped(), flip);
        EXPECT_NEAR(m.transform.scale(), scale, 1e-3);
        EXPECT_GT(m.n_inliers, 80);
        EXPECT_LT(m.weighted_rms, 0.15);
        for (const Point2 q : {Point2{0, 0}, Point2{w, 0}, Point2{0, h}, Point2{w, h}}) {
          const Point2 a = m.transform.apply(q), b = truth.apply(q);
          EXPECT_LT(std::hypot(a.x - b.x, a.y - b.y), 0.1) << "angle " << angle << " flip " << flip;
        }
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, 54);
}

}  // namespace
}  // namespace zm
