// Per-frame linear photometric correction frame' = gain * frame + offset (normalisation to a reference frame).
#pragma once

namespace zm {

struct LinearCoeffs {
  float gain = 1.0f;
  float offset = 0.0f;
  float apply(float x) const { return gain * x + offset; }
  bool is_identity() const { return gain == 1.0f && offset == 0.0f; }
};

}  // namespace zm
