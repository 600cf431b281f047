// The GPU coadd in a binary built without CUDA: constructing an accumulator throws, so callers take the CPU path.
#include "gpu/coadd_device.hpp"

namespace zm::gpu {

struct DeviceAccumulator::Impl {};

DeviceAccumulator::DeviceAccumulator(const Rect& region, int, const double*, int) : region_(region) {
  throw DeviceError("built without CUDA");
}
DeviceAccumulator::~DeviceAccumulator() = default;
void DeviceAccumulator::rebase(const Rect& region) { region_ = region; }
void DeviceAccumulator::add(const TileRows&, const Contribution&, const Rect&, const double*, const double*) {
  throw DeviceError("built without CUDA");
}
long long DeviceAccumulator::finish(float*, float*, float*) { throw DeviceError("built without CUDA"); }
void DeviceAccumulator::load(const double*, std::size_t, std::size_t, int, int) {
  throw DeviceError("built without CUDA");
}
void DeviceAccumulator::store(double*, std::size_t, std::size_t, int, int) const {
  throw DeviceError("built without CUDA");
}

}  // namespace zm::gpu
